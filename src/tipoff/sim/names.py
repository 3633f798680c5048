"""Match a sportsbook's spelling of a player to the ``player_lookup`` the box scores use.

Books and box scores disagree in small ways ("Jimmy Butler" / "Jimmy Butler III", "R.J. Barrett"
/ "RJ Barrett", "Luka Doncic" / "Luka Dončić") and in nicknames ("Herb Jones" / "Herbert Jones").
Steps, first hit wins:

1. ``name_key``: ASCII, lower case, letters only, without a trailing Jr/Sr/II/III/IV/V;
   a spelling in the reviewed alias file (``data/player_aliases.csv``) is replaced first;
2. the same key among the players of the game's two teams that season (the roster), then among
   every known player when exactly one has it;
3. within the roster only: same last name and one first name a prefix of the other ("Nic" /
   "Nicolas", "Vince" / "Vincent"), or a close spelling (difflib ratio ≥ ``FUZZY_MIN``) that no
   other roster player comes near.

Anything else is left unmatched and reported: a wrong player is worse than no line.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
FUZZY_MIN = 0.85
FUZZY_MARGIN = 0.08  # the best roster spelling must beat the runner-up by this much
EXACT, ALIAS, KNOWN, PREFIX, FUZZY = "exact", "alias", "known", "prefix", "fuzzy"
_WORD = re.compile(r"[a-z]+")


def name_words(name: str) -> list[str]:
    """Lower-case ASCII words of a name, periods and apostrophes dropped, suffix removed."""
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = _WORD.findall(re.sub(r"[.'’`]", "", ascii_only.lower()))
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    return words


def name_key(name: str) -> str:
    """``"Jimmy Butler III"`` and ``"Jimmy Butler"`` → ``"jimmybutler"``."""
    return "".join(name_words(name))


def load_aliases(text: str | None = None) -> dict[str, str]:
    """book name key → box score name key, from the shipped alias file (or ``text``)."""
    if text is None:
        text = resources.files("tipoff.sim").joinpath("data/player_aliases.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {name_key(row["book_name"]): name_key(row["box_score_name"]) for row in rows}


@dataclass(frozen=True)
class Match:
    """The player a spelling was matched to (None: unmatched) and the step that matched it."""

    player_lookup: str | None
    method: str | None


class PlayerMatcher:
    """Matches names against known players (player_lookup → name) and per-team rosters."""

    def __init__(self, known: Mapping[str, str], aliases: Mapping[str, str] | None = None):
        self._aliases = load_aliases() if aliases is None else dict(aliases)
        self._words = {lookup: name_words(name) for lookup, name in known.items()}
        self._by_key: dict[str, set[str]] = {}
        for lookup, words in self._words.items():
            self._by_key.setdefault("".join(words), set()).add(lookup)

    def match(self, name: str, roster: Iterable[str]) -> Match:
        """Match ``name`` among ``roster`` (player_lookups of the game's teams) first."""
        key = name_key(name)
        method = EXACT
        if key in self._aliases:
            key, method = self._aliases[key], ALIAS
        mates = {lookup for lookup in roster if lookup in self._words}
        on_roster = self._by_key.get(key, set()) & mates
        if len(on_roster) == 1:
            return Match(on_roster.pop(), method)
        anywhere = self._by_key.get(key, set())
        if not on_roster and len(anywhere) == 1:
            return Match(next(iter(anywhere)), KNOWN if method == EXACT else method)
        if on_roster:
            return Match(None, None)  # two roster players share the name: do not guess
        return self._near(name_words(name), sorted(mates))

    def _near(self, words: list[str], mates: list[str]) -> Match:
        prefixed = [m for m in mates if _same_last_prefix_first(words, self._words[m])]
        if len(prefixed) == 1:
            return Match(prefixed[0], PREFIX)
        key = "".join(words)
        ratios = sorted(((difflib.SequenceMatcher(None, key, "".join(self._words[m])).ratio(), m)
                         for m in mates), reverse=True)
        if not ratios or ratios[0][0] < FUZZY_MIN:
            return Match(None, None)
        if len(ratios) > 1 and ratios[0][0] - ratios[1][0] < FUZZY_MARGIN:
            return Match(None, None)
        return Match(ratios[0][1], FUZZY)


def _same_last_prefix_first(a: list[str], b: list[str]) -> bool:
    if len(a) < 2 or len(b) < 2 or a[1:] != b[1:]:
        return False
    first, other = a[0], b[0]
    return min(len(first), len(other)) >= 2 and (first.startswith(other) or other.startswith(first))
