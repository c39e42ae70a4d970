"""Wire format shared by the controller and the agent.

:mod:`.codec` encodes values safely (no pickle, no eval); :mod:`.framing`
turns messages into terminal-safe frames and back (sans-IO); :mod:`.messages`
lays out what each message kind carries (requests, replies, modes, statuses);
:mod:`.compat` holds what differs between Python 2.7 and 3 (chosen once, at
import). All are standard library only, free of I/O and run on Python 2.7 and
3.6+ (no annotations: type comments; no f-strings): the agent bundle ships
them to the target, where they are loaded as modules of a private package.
``messages`` builds on ``codec``, both on ``compat``; nothing here imports
anything else of this package.
"""
