"""Moving through a sequence of images by index: what Left/Right/Home/End do in every view."""

from __future__ import annotations


class FrameCursor:
    """``frame`` in ``0 .. nframes - 1``; a subclass says what ``nframes`` is."""

    frame: int = 0

    @property
    def nframes(self) -> int:
        raise NotImplementedError

    def goto(self, frame: int) -> bool:
        """Show image ``frame`` (clamped); True if the image changed."""
        frame = int(min(max(frame, 0), self.nframes - 1)) if self.nframes else 0
        changed, self.frame = frame != self.frame, frame
        return changed

    def next_frame(self) -> bool:
        return self.goto(self.frame + 1)

    def prev_frame(self) -> bool:
        return self.goto(self.frame - 1)

    def first_frame(self) -> bool:
        return self.goto(0)

    def last_frame(self) -> bool:
        return self.goto(self.nframes - 1)
