"""Work that waits for the first frame to reach the terminal (tui.ui.terminal_driver.OutputSent).

The event loop hands frames to Textual's writer thread; CPU work started right after
a frame kept that thread from sending it (each partial write to the terminal waits
for the GIL). The app's post-frame work waits for the frame to be out, or at most
``FIRST_FRAME_WAIT`` for a terminal that takes no output (tests/test_process.py).
"""

from __future__ import annotations

import threading

from tui.ui.terminal_driver import OutputSent


def test_a_callback_waits_for_what_was_queued_before_it() -> None:
    sent = OutputSent()
    ran: list[str] = []
    sent.queued()
    sent.queued()
    assert sent.after(lambda: ran.append("frame out")) is False
    sent.queued()  # queued after the request: not waited for
    sent.written()
    assert sent.flushed() == []
    sent.written()
    for callback in sent.flushed():
        callback()
    assert ran == ["frame out"]
    assert sent.flushed() == []  # each callback is due once


def test_nothing_waiting_means_now() -> None:
    sent = OutputSent()
    assert sent.after(lambda: None) is True
    sent.queued()
    sent.written()
    sent.flushed()
    assert sent.after(lambda: None) is True


def test_callbacks_are_due_in_the_order_asked() -> None:
    sent = OutputSent()
    order: list[int] = []
    for n in range(3):
        sent.queued()
        sent.after(lambda n=n: order.append(n))
    for _ in range(3):
        sent.written()
    for callback in sent.flushed():
        callback()
    assert order == [0, 1, 2]


def test_the_writer_thread_and_the_loop_may_count_at_once() -> None:
    sent = OutputSent()
    pieces = 20_000

    def writer() -> None:
        for _ in range(pieces):
            sent.written()

    for _ in range(pieces):
        sent.queued()
    thread = threading.Thread(target=writer)
    thread.start()
    waiting = not sent.after(lambda: None)
    thread.join()
    due = sent.flushed()
    assert len(due) == (1 if waiting else 0)
    assert sent.after(lambda: None) is True
