"""Auto-pause: a running campaign whose recent messages mostly fail is paused, with why."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from domain.status import RecipientStatus

FAILED = (RecipientStatus.FAILED, RecipientStatus.UNDELIVERED)


@dataclass(frozen=True)
class AutoPause:
    """Pause once `failures` of the last `window` answered messages failed."""

    window: int = 20
    failures: int = 15

    def reason(self, outcomes: Sequence[tuple[str, int | None]]) -> str | None:
        """Why to pause, given the (status, error code) of the campaign's latest answered
        messages, newest first; None to let it run. Fewer than `window` never pause it."""
        failed = [code for status, code in outcomes if status in FAILED]
        if len(outcomes) != self.window or len(failed) < self.failures:
            return None
        common = Counter(failed).most_common(1)[0][0]
        return (
            f"{len(failed)} of the last {len(outcomes)} submissions failed"
            f" (most often error {common})"
        )
