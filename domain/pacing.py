"""Pacing a sender number: never more than `mps` segments in any second at Twilio."""

import math


class SlidingWindow:
    """A number's recent submissions: never more than `mps` segments in any second.

    Each submission counts from when it was sent until a second after its answer came
    back (while in flight it always counts). Twilio received it before the answer, so
    however the latency varies, no second at Twilio can hold more than `mps` segments.
    """

    LENGTH = 1.001  # a millisecond over a second, for clock rounding

    def __init__(self) -> None:
        self.entries: list[list[float]] = []  # [answered at (inf: in flight), segments]

    def earliest(self, now: float, segments: int, mps: int) -> float:
        """When a submission of `segments` may go (math.inf: once one in flight answers)."""
        self.entries = [e for e in self.entries if e[0] > now - self.LENGTH]
        excess = sum(int(e[1]) for e in self.entries) + segments - mps
        if excess <= 0 or not self.entries:  # a message longer than mps segments goes alone
            return now
        for answered, sent in sorted(self.entries):
            excess -= int(sent)
            if excess <= 0:
                return answered + self.LENGTH
        return now

    def sending(self, segments: int) -> list[float]:
        entry = [math.inf, float(segments)]
        self.entries.append(entry)
        return entry

    @staticmethod
    def answered(entry: list[float], at: float) -> None:
        entry[0] = at
