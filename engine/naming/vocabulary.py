"""The candidate names CLIP chooses album names from: built-in term lists, prompt templates, the user's edits.

The built-in lists live in `resources/vocabulary/*.txt` (SOURCES.md there says where each comes from). The
user's edits are data of their own, kept in the library folder as `vocabulary.json`, so that a new release
of the lists never loses them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InvalidInputError, PhotoAtlasError

CATEGORIES: tuple[str, ...] = ("objects", "everyday", "scenes", "events", "food", "documents", "seasons_weather")
USER_CATEGORY = "user"
CHOICE_FILE = "vocabulary.json"
_CHOICE_FORMAT = 1
_DELETE_HINT = "fix it, or delete it to go back to the built-in vocabulary"

# Few templates per category: every term is embedded once per template, so the text tower's work is
# terms x templates. Wording is for personal photos; most templates take the term without an article
# because many terms are plural, mass nouns or activities ("friends", "snow", "hiking"). The first
# template of each category is the best one alone (CLIP's own single-prompt wording): the first names
# come from it, a fifth of the work, and the whole ensemble refines them later.
PROMPT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "objects": (
        "a photo of a {}.",
        "a photo of my {}.",
        "a close-up photo of a {}.",
        "a photo of the {}.",
        "a blurry photo of a {}.",
    ),
    "everyday": (
        "a photo of {}.",
        "a photo of my {}.",
        "a close-up photo of {}.",
        "a snapshot of {}.",
        "a picture of {}.",
    ),
    "scenes": (
        "a photo of a {}.",
        "a photo taken at a {}.",
        "a photo of the {}.",
        "a view of a {}.",
        "a travel photo of a {}.",
    ),
    "events": (
        "a photo from a {}.",
        "a photo of {}.",
        "a photo taken during {}.",
        "a snapshot of {}.",
        "a candid photo of people at {}.",
    ),
    "food": (
        "a photo of {}, a type of food.",
        "a photo of {}.",
        "a close-up photo of {}.",
        "a photo of {} on a table.",
    ),
    "documents": (
        "a photo of a {}.",
        "a scan of a {}.",
        "a close-up photo of a {}.",
        "a photo of a {} with text on it.",
    ),
    "seasons_weather": (
        "a photo of {}.",
        "a photo taken during {}.",
        "a landscape photo of {}.",
        "an outdoor photo of {}.",
    ),
    USER_CATEGORY: (
        "a photo of {}.",
        "a photo of a {}.",
        "a photo of my {}.",
        "a close-up photo of {}.",
        "a photo from {}.",
    ),
}


@dataclass(frozen=True)
class Term:
    """One candidate album name."""

    text: str  # as shown to the user, e.g. "golden retriever"
    category: str  # one of CATEGORIES or "user"

    def __post_init__(self) -> None:
        if self.category not in PROMPT_TEMPLATES:
            raise InvalidInputError(f"unknown vocabulary category {self.category!r}")


@dataclass(frozen=True)
class Vocabulary:
    """An ordered list of candidate names with no two equal ignoring case."""

    terms: tuple[Term, ...]
    generic: tuple[str, ...]  # fall-back names for clusters no term describes well
    # Changes whenever a term, its category or a template changes: the key for cached text embeddings.
    version: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", _digest(self.terms))

    def names(self) -> list[str]:
        return [term.text for term in self.terms]

    def prompts(self, term: Term, ensemble: bool = True) -> list[str]:
        """The term put into each template of its category, or only into the first (`ensemble=False`)."""
        templates = PROMPT_TEMPLATES[term.category]
        # str.replace, not str.format: a user's term may contain braces.
        return [template.replace("{}", term.text) for template in (templates if ensemble else templates[:1])]

    def prompt_sets(self, ensemble: bool = True) -> list[list[str]]:
        """Every term's prompts, in term order: the whole ensemble, or one prompt per term (quick names)."""
        return [self.prompts(term, ensemble) for term in self.terms]

    def __len__(self) -> int:
        return len(self.terms)


def _digest(terms: tuple[Term, ...]) -> str:
    payload = {"terms": [[t.text, t.category] for t in terms], "templates": PROMPT_TEMPLATES}
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True)
class VocabularyChoice:
    """The user's edits, stored in the library folder as vocabulary.json."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    replacement: tuple[str, ...] | None = None  # `vocab use FILE`: the user's own list replaces the built-in one

    @classmethod
    def load(cls, library_dir: Path) -> VocabularyChoice:
        """The choice saved in the library; the built-in vocabulary unedited when none was saved."""
        path = Path(library_dir) / CHOICE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInputError(f"{path} is not a readable vocabulary file ({exc}); {_DELETE_HINT}") from exc
        return cls._from_json(data, path)

    @classmethod
    def _from_json(cls, data: object, path: Path) -> VocabularyChoice:
        if not isinstance(data, dict) or data.get("format") != _CHOICE_FORMAT:
            raise InvalidInputError(f"{path} is not a vocabulary file this PhotoAtlas can read; {_DELETE_HINT}")
        added, removed = _strings(data, "added", path), _strings(data, "removed", path)
        if data.get("replacement") is None:
            return cls(added, removed)
        replacement = _strings(data, "replacement", path)
        if not replacement:
            raise InvalidInputError(f"{path}: the replacement list is empty; {_DELETE_HINT}")
        return cls(added, removed, replacement)

    def save(self, library_dir: Path) -> None:
        """Write the choice atomically: a crash leaves the old file or the new one, never half of one."""
        library_dir = Path(library_dir)
        library_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": _CHOICE_FORMAT,
            "added": list(self.added),
            "removed": list(self.removed),
            "replacement": None if self.replacement is None else list(self.replacement),
        }
        fd, tmp = tempfile.mkstemp(prefix=".vocabulary-", suffix=".tmp", dir=library_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f, ensure_ascii=False, indent=2)
                f.write("\n")
            os.replace(tmp, library_dir / CHOICE_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, terms: Iterable[str]) -> VocabularyChoice:
        """Add terms; a term the user had removed comes back, one already in the vocabulary is left alone."""
        base = _folded(self._base())
        added, removed = list(self.added), list(self.removed)
        for term in _normalised(terms):
            key = term.casefold()
            if key in _folded(removed):
                removed = [r for r in removed if r.casefold() != key]
            if key not in base and key not in _folded(added):
                added.append(term)
        return VocabularyChoice(tuple(added), tuple(removed), self.replacement)

    def remove(self, terms: Iterable[str]) -> VocabularyChoice:
        """Remove terms, matched ignoring case; a term not in the vocabulary is an error that names it."""
        base = {t.casefold(): t for t in self._base()}
        added, removed = list(self.added), list(self.removed)
        for term in _normalised(terms):
            key = term.casefold()
            found = key in _folded(added)
            added = [a for a in added if a.casefold() != key]
            # Checked apart from `added`: a later release may ship a term the user had added.
            if key in base and key not in _folded(removed):
                removed.append(base[key])
                found = True
            if not found:
                raise InvalidInputError(f"'{term}' is not in the vocabulary")
        return VocabularyChoice(tuple(added), tuple(removed), self.replacement)

    def use_file(self, path: Path) -> VocabularyChoice:
        """Replace the built-in list with the file's terms (one a line, '#' comments); earlier edits are dropped."""
        path = Path(path)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise InvalidInputError(f"cannot read vocabulary file {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"vocabulary file {path} is not UTF-8 text") from exc
        terms = _unique(_normalised(_read_terms(text), allow_empty=True))
        if not terms:
            raise InvalidInputError(f"vocabulary file {path} has no terms (one term a line; '#' starts a comment)")
        return VocabularyChoice(replacement=tuple(terms))

    def reset(self) -> VocabularyChoice:
        """Back to the built-in vocabulary with no edits."""
        return VocabularyChoice()

    def _base(self) -> list[str]:
        return list(self.replacement) if self.replacement is not None else builtin_vocabulary().names()


def _strings(data: dict[str, object], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{path}: '{key}' must be a list of strings; {_DELETE_HINT}")
    return tuple(value)


def _read_terms(text: str) -> list[str]:
    """The terms of a list file: one a line, blank lines and lines starting with '#' skipped."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _normalised(terms: Iterable[str], allow_empty: bool = False) -> list[str]:
    if isinstance(terms, str):
        terms = [terms]  # a lone string is one term, not a sequence of characters
    out = []
    for term in terms:
        clean = " ".join(unicodedata.normalize("NFC", str(term)).split())
        if clean:
            out.append(clean)
        elif not allow_empty:
            raise InvalidInputError("a vocabulary term cannot be empty")
    return out


def _folded(terms: Iterable[str]) -> set[str]:
    return {t.casefold() for t in terms}


def _unique(terms: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return [t for t in terms if not (t.casefold() in seen or seen.add(t.casefold()))]


def resources_dir() -> Path:
    """The repository's resources/ folder (beside the engine package)."""
    return Path(__file__).resolve().parents[2] / "resources"


@functools.lru_cache(maxsize=1)
def builtin_vocabulary() -> Vocabulary:
    """The vocabulary shipped with PhotoAtlas, read once per process."""
    folder = resources_dir() / "vocabulary"
    terms = [Term(text, category) for category in CATEGORIES for text in _read_list(folder / f"{category}.txt")]
    return Vocabulary(tuple(terms), tuple(_read_list(folder / "generic.txt")))


def _read_list(path: Path) -> list[str]:
    try:
        return _read_terms(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise PhotoAtlasError(f"the built-in vocabulary list {path} is missing or unreadable; reinstall") from exc


def vocabulary_for(choice: VocabularyChoice) -> Vocabulary:
    """The built-in (or replacement) vocabulary minus removed terms plus added ones, first spelling kept."""
    builtin = builtin_vocabulary()
    if choice.replacement is None:
        base = list(builtin.terms)
    else:
        base = [Term(text, USER_CATEGORY) for text in choice.replacement]
    removed = _folded(choice.removed)
    terms = [t for t in base if t.text.casefold() not in removed]
    terms += [Term(text, USER_CATEGORY) for text in choice.added]
    seen: set[str] = set()
    unique = [t for t in terms if not (t.text.casefold() in seen or seen.add(t.text.casefold()))]
    return Vocabulary(tuple(unique), builtin.generic)
