"""Wire format shared by the controller and the agent.

:mod:`.codec` encodes values safely (no pickle, no eval); :mod:`.framing`
turns messages into terminal-safe frames and back (sans-IO); :mod:`.messages`
lays out what each message kind carries (requests, replies, modes, statuses).
All are standard library only, free of I/O and Python 3.6+ compatible: the
agent bundle ships them to the target, where they are loaded as modules of a
private package. ``messages`` builds on ``codec``; nothing here imports
anything else of this package.
"""
