"""Wire format shared by the controller and the agent.

:mod:`.codec` encodes values safely (no pickle, no eval); :mod:`.framing`
turns messages into terminal-safe frames and back (sans-IO).  Both are
standard library only and Python 3.6+ compatible: the agent bundle ships
them to the target as stand-alone modules, so neither imports the other nor
anything else from this package.
"""
