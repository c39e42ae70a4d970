"""Requests run by the thread that read them, with a watcher for slow ones.

A link's reading thread (the terminal's, or the direct channel's) runs the
requests it reads itself, one after the other, and then reads again: no
thread hand-off lies between a request arriving and its execution, nor
between its reply and the next read, and the replies to requests read
together are written together. A watcher thread looks at the lane every
``TICK`` seconds while requests come: a request that has run for a whole
tick is a slow one, so the watcher takes the reading away from its thread
(``resume(turn)`` reads from then on, on a pool thread), writes the replies
held back for the batch, and hands the requests read with the slow one to
the pool. Slow calls so still run side by side and hold up the others for a
tick or two at most. After ``WATCH_IDLE`` seconds without a request the
watcher sleeps until the next one comes.

Kept free of annotations, f-strings and keyword-only arguments: this runs on
the target (Python 2.7 and 3.6+).
"""

import collections
import threading
import time

#: Seconds between the watcher's looks while requests come: a request run by
#: the reading thread for longer than this has the reading taken from it.
TICK = 0.002
#: Seconds without a request after which the watcher sleeps until the next.
WATCH_IDLE = 0.5

_clock = getattr(time, "monotonic", time.time)


class Lane(object):
    """The requests of one link (see the module doc).

    ``pool`` runs jobs on other threads (``submit(function, *args)``);
    ``execute(request_id, payload, hold)`` runs one request and sends its
    reply (``hold``: it may wait for the next reply, more are coming);
    ``resume(turn)`` reads the link from now on (its thread has turn
    ``turn``); ``flush()`` writes held replies."""

    def __init__(self, pool, execute, resume, flush, name="rpl-watch"):
        self.pool = pool
        self.execute = execute
        self.resume = resume
        self.flush = flush
        # Guarded by ``state``: which turn reads, requests read and not yet
        # run, how many the reader started, whether it runs one now.
        self.state = threading.Lock()
        self.turn = 0
        self.backlog = collections.deque()  # type: collections.deque
        self.started = 0
        self.running = False
        self.closed = False
        # The watcher sleeps on ``gate`` (held but while released to wake
        # it): only the watcher sets ``asleep`` and then acquires the gate;
        # only who clears ``asleep`` releases it, once per sleep.
        self.asleep = False
        self.gate = threading.Lock()
        self.gate.acquire()
        watcher = threading.Thread(target=self.watch, name=name)
        watcher.daemon = True
        watcher.start()

    def run(self, turn, requests):
        """Run ``requests`` (request id, payload) in this thread, which reads
        with ``turn``; False when the watcher took the reading away from it
        meanwhile (it is to stop reading), else True."""
        state = self.state
        backlog = self.backlog
        with state:
            lost = self.turn != turn  # cannot be: turns change only while one runs
            if not lost:
                backlog.extend(requests)
            wake = self.asleep
            self.asleep = False
        if wake:
            self.gate.release()
        if lost:
            for request_id, payload in requests:
                self.pool.submit(self.execute, request_id, payload, False)
            return False
        while True:
            with state:
                if self.turn != turn:
                    return False
                if not backlog:
                    return True
                request_id, payload = backlog.popleft()
                self.started += 1
                self.running = True
            try:
                self.execute(request_id, payload, True)
            finally:
                with state:
                    lost = self.turn != turn
                    if not lost:
                        self.running = False
                    more = bool(backlog) and not lost
                if not more:
                    self.flush()
            if lost:
                return False

    def watch(self):
        """The watcher's loop (see the module doc)."""
        state = self.state
        seen = -1
        quiet_since = _clock()
        while not self.closed:
            time.sleep(TICK)
            handed = None
            with state:
                if self.closed:  # looked at here: close() then finds asleep set
                    return
                started = self.started
                if self.running and started == seen:
                    self.turn += 1
                    self.running = False
                    handed = (self.turn, list(self.backlog))
                    self.backlog.clear()
                elif self.running or started != seen:
                    quiet_since = _clock()
                elif _clock() - quiet_since >= WATCH_IDLE:
                    self.asleep = True
                seen = started
                asleep = self.asleep
            if handed is not None:
                turn, requests = handed
                self.pool.submit(self.resume, turn)
                self.flush()  # what the slow request's reader held back
                for request_id, payload in requests:
                    self.pool.submit(self.execute, request_id, payload, False)
            elif asleep:
                self.gate.acquire()  # until a request comes (or close)
                quiet_since = _clock()

    def close(self):
        """End the watcher."""
        self.closed = True  # before the lock: see watch
        with self.state:
            wake = self.asleep
            self.asleep = False
        if wake:
            self.gate.release()
