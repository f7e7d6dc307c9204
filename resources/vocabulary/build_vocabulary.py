"""Build `objects.txt` from ImageNet-1k and WordNet 3.0, and check every vocabulary list.

Run by hand, once: `python resources/vocabulary/build_vocabulary.py`. The .txt files are the committed
output; nothing at run time imports this script. It needs open_clip and timm (both in the dev venv),
Debian's `wordnet-base` (the WordNet 3.0 database in /usr/share/wordnet) and `wordfreq` from PyPI.
SOURCES.md says what each rule is for.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDNET_DIR = Path("/usr/share/wordnet")
HAND_LISTS = ("everyday", "scenes", "events", "food", "documents", "seasons_weather")

# A synonym with a word rarer than this (wordfreq's Zipf scale: 2 is about once per 100 million words)
# is a specialist or dialect word ("crampfish", "pismire") or a Latin genus name.
MIN_ZIPF = 2.0


def _names(text: str) -> frozenset[str]:
    """A set of names written comma-separated over several lines."""
    return frozenset(" ".join(name.split()) for name in text.split(",") if name.strip())


# open_clip names that bundle two names ("gas mask or respirator") or explain themselves in brackets;
# each becomes the terms listed. The others keep open_clip's wording.
SPLITS: dict[str, tuple[str, ...]] = {
    "kite (bird of prey)": ("kite bird",),
    "ram (adult male sheep)": ("ram",),
    "impala (antelope)": ("impala",),
    "Mexican hairless dog (xoloitzcuintli)": ("Mexican hairless dog", "xoloitzcuintli"),
    "cherimoya (custard apple)": ("cherimoya", "custard apple"),
    "military hat (bearskin or shako)": ("military hat", "bearskin hat", "shako"),
    "loupe magnifying glass": ("loupe", "magnifying glass"),
    "ruler measuring stick": ("ruler", "measuring stick"),
    "balaclava ski mask": ("balaclava", "ski mask"),
    "hair wig": ("wig",),
    "fishing casting reel": ("fishing reel",),
    "music speaker": ("loudspeaker",),
    "swim trunks / shorts": ("swim trunks", "swim shorts"),
    "shoji screen / room divider": ("shoji screen", "room divider"),
    "product packet / packaging": ("product packet", "packaging"),
    "cardboard box / carton": ("cardboard box", "carton"),
    "baluster / handrail": ("baluster", "handrail"),
    "spiral or coil": ("spiral", "coil"),
    "bell or wind chime": ("wind chime", "bell"),
    "vaulted or arched ceiling": ("vaulted ceiling", "arched ceiling"),
    "traffic or street sign": ("traffic sign", "street sign"),
    "red wolf or maned wolf": ("red wolf", "maned wolf"),
    "gas mask or respirator": ("gas mask", "respirator"),
    "through arch bridge": ("arch bridge",),
    "keyboard space bar": ("space bar",),
    "common sorrel horse": ("sorrel horse",),
    "ford model t": ("Ford Model T",),
    "Crock Pot": ("Crock-Pot",),
}
# open_clip names index 744 (WordNet's "projectile, missile") like 657, "missile". Its 836 and 837 are both
# "sunglasses" (WordNet's 836 is "sunglass", a burning lens, but its images are sunglasses): one term.
RENAMED_BY_INDEX: dict[int, str] = {744: "projectile"}

# Capitals WordNet cannot settle because the word is not among the synset's lemmas.
CASING: dict[str, str] = {
    "King Charles Spaniel": "King Charles spaniel",
    "Treeing Walker Coonhound": "Treeing Walker coonhound",
    "Japanese Chin": "Japanese Chin",
    "Egyptian Mau": "Egyptian Mau",
    "Appenzeller Sennenhund": "Appenzeller Sennenhund",
    "Entlebucher Sennenhund": "Entlebucher Sennenhund",
    "Lhasa Apso": "Lhasa Apso",
    "Dobermann": "Dobermann",
    "Leonberger": "Leonberger",
    "Dalmatian": "Dalmatian",
    "Geoffroy's spider monkey": "Geoffroy's spider monkey",
    "brussels griffon": "Brussels griffon",
}

# Synonyms whose most frequent WordNet sense is another synset, kept anyway: in a photo the class's
# meaning is the likely one ("peacock" for the peafowl class, "ATM" for the cash machine).
KEEP = _names(
    """
    hippo, peacock, ATM, cinema, merry-go-round, microwave, black bear, robin, hammerhead, bobsled, mortarboard,
    jack-o'-lantern, washbasin, stoplight, horse chestnut, bighorn, blowfish, crawdad, hotdog
    """
)

# Synonyms that pass every rule but are folk, trade or technical names nobody would choose for an album,
# or one more spelling of a name already in the list; each costs text-embedding time for nothing.
OBSCURE = _names(
    """
    man-eating shark, indigo bird, water ouzel, bell toad, ribbed toad, tailed toad, leathery turtle, box tortoise,
    American chameleon, dragon lizard, giant lizard, thunder snake, rock snake, horned asp, horned rattlesnake,
    Constrictor constrictor, prairie fowl, coat-of-mail shell, sea cradle, sea crawfish, brush kangaroo,
    kangaroo bear, native bear, nematode worm, great white heron, European gallinule, marsh hen, mud hen, water hen,
    red-backed sandpiper, sea wolf, Blenheim spaniel, Walker hound, Walker foxhound, gazelle hound,
    chrysanthemum dog, Sydney silky, German police dog, monkey pinscher, monkey dog, coach dog, carriage dog,
    prairie wolf, brush wolf, white wolf, hyena dog, Cape hunting dog, king of beasts, Egyptian cat, carabid beetle,
    longicorn beetle, snake feeder, snake doctor, mosquito hawk, skeeter hawk, lycaenid butterfly, wood rabbit,
    eastern fox squirrel, river horse, water ox, Rocky Mountain sheep, wood pussy, hussar monkey, guenon monkey,
    Madagascar cat, bear cat, cat bear, coon bear, blue jack, judge's robe, attack aircraft carrier, bee house,
    ash bin, trash barrel, bathing tub, beach wagon, beacon light, bell cote, bell cot, bicycle-built-for-two,
    opera glasses, bola tie, bola, busby, memorial tablet, meat market, wax light, garden cart, lawn cart,
    cash dispenser, automated teller, automatic teller, automatic teller machine, cellular telephone,
    cellular phone, ring mail, chain armor, ring armor, china closet, church building, movie house, picture palace,
    container vessel, bottle screw, dial telephone, dial phone, dish washer, dishwashing machine, docking facility,
    dog sleigh, drilling platform, transverse flute, gas helmet, island dispenser, tam-tam, food market, hair slide,
    hand blower, hand-held microcomputer, fixed disk, mouth harp, smoothing iron, blue jean, tee shirt,
    laboratory coat, lens cover, paper knife, lip rouge, speaker unit, loudspeaker system, speaker system,
    jeweler's loupe, tank suit, megalithic structure, manufactured home, all-terrain bike, off-roader,
    mountain tent, cathode-ray oscilloscope, CRO, pandean pipe, passenger car, pay-station, carpenter's plane,
    woodworking plane, plumber's helper, Polaroid Land camera, police wagon, patrol wagon, black Maria,
    punching ball, radio reflector, eating house, eating place, weighing machine, CRT screen, one-armed bandit,
    solar dish, solar furnace, steel arch bridge, trolley car, studio couch, day bed, suit of clothes, sun blocker,
    bathing trunks, electric switch, armored combat vehicle, television system, tobacconist shop, trucking rig,
    trolley coach, trackless trolley, wash-hand basin, automatic washer, worm fence, snake fence, snake-rail fence,
    Virginia fence, internet site, dust wrapper, red hot, French loaf, sand bar, yellow lady-slipper,
    carrion fungus, toilet tissue, bathroom tissue, emmet, fitch, orang, thrasher, tup, buckler, paling, foreland,
    tope, pharos, bandeau, syrinx, hankey, Biro, jammies, pj's, confectionary, caldron, billfish, grampus,
    catamount, geta, patas, maillot, lolly, woolen, velocipede, bars, chute, mini, jak, vale, alp, seacoast,
    pug-dog, spider's web, sport car, tow car, eft, ballplayer, Newfoundland, Pembroke, assault gun, bolo, patten,
    boa, grocery, mike, gar, cocker, Model T, lesser panda
    """
)

TOY_COLOURS = ("red", "green", "blue", "yellow", "orange", "black")
TOY_SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")
FASHION_MNIST = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat")
FASHION_MNIST += ("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# Spellings that name the same thing; a synonym that differs from a kept term only by these is dropped.
SPELLING = {"gray": "grey", "theatre": "theater", "armour": "armor", "plough": "plow", "waggon": "wagon"}
SPELLING |= {"armoured": "armored", "woollen": "woolen", "sulfur": "sulphur", "disc": "disk", "racquet": "racket"}
SPELLING["drier"] = "dryer"

OBJECTS_HEADER = """\
# PhotoAtlas candidate album names: objects and animals. One term per line.
# Source: the 1000 ImageNet-1k class names as cleaned by open_clip (open_clip.zero_shot_metadata, MIT
# licence), combined names split, plus common-English WordNet 3.0 synonyms of each class's synset
# (WordNet 3.0 licence, Copyright 2006 by Princeton University; notice in SOURCES.md).
# Generated by build_vocabulary.py: change the script, not this file.
"""


@dataclass(frozen=True)
class WordNet:
    """The parts of the WordNet 3.0 noun database this script reads."""

    senses: dict[str, list[str]]  # lemma (lowercase, underscores) -> synset offsets, most frequent first
    casings: dict[str, set[str]]  # word (lowercase) -> the spellings noun lemmas give it
    data_path: Path

    @classmethod
    def load(cls, directory: Path) -> WordNet:
        senses: dict[str, list[str]] = {}
        for line in (directory / "index.noun").read_text(encoding="latin-1").splitlines():
            if not line.startswith(" "):
                parts = line.split()
                senses[parts[0]] = parts[-int(parts[2]) :]
        casings: dict[str, set[str]] = {}
        for line in (directory / "data.noun").read_text(encoding="latin-1").splitlines():
            if not line.startswith(" "):
                for lemma in _lemmas_of(line):
                    for word in re.split(r"[ \-]", lemma):
                        casings.setdefault(word.lower(), set()).add(word)
        return cls(senses, casings, directory / "data.noun")

    def lemmas(self, offset: str) -> list[str]:
        """The synset's lemmas with WordNet's capitals, underscores turned into spaces."""
        with self.data_path.open("rb") as f:
            f.seek(int(offset))
            return _lemmas_of(f.readline().decode("latin-1"))

    def dominant(self, lemma: str) -> str | None:
        """The offset of the lemma's most frequent noun sense."""
        offsets = self.senses.get(lemma.lower().replace(" ", "_"))
        return offsets[0] if offsets else None

    def is_genus(self, word: str) -> bool:
        return f"genus_{word.lower()}" in self.senses


def _lemmas_of(data_line: str) -> list[str]:
    parts = data_line.split()
    return [parts[4 + 2 * i].replace("_", " ") for i in range(int(parts[3], 16))]


def imagenet_classes() -> list[tuple[str, str]]:
    """(open_clip name, WordNet 3.0 noun offset) for the 1000 classes, in class-index order."""
    import timm
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    # timm lists the classes' WordNet ids (n + 8-digit offset) in the same, sorted, class order.
    wnids = (Path(timm.__file__).parent / "data" / "_info" / "imagenet_synsets.txt").read_text().split()
    assert len(wnids) == len(IMAGENET_CLASSNAMES) == 1000
    names = [RENAMED_BY_INDEX.get(i, name) for i, name in enumerate(IMAGENET_CLASSNAMES)]
    return [(name, wnid[1:]) for name, wnid in zip(names, wnids, strict=True)]


def cased(name: str, synset_lemmas: list[str], wordnet: WordNet) -> str:
    """open_clip's name lowercased except words that WordNet writes with a capital (proper nouns)."""
    if name in CASING:
        return CASING[name]
    in_synset: dict[str, str] = {}
    for word in (w for lemma in synset_lemmas for w in re.split(r"[ \-]", lemma)):
        # The synset's Latin binomial ("Alligator mississipiensis") must not capitalise "alligator".
        if in_synset.get(word.lower()) != word.lower():
            in_synset[word.lower()] = word
    out = []
    for word in re.split(r"([ \-])", name):
        lower = word.lower()
        forms = wordnet.casings.get(lower, set())
        if lower in in_synset:
            out.append(in_synset[lower])
        elif len(word) > 1 and word[1:] != word[1:].lower():
            out.append(word)  # "CD", "iPod": capitals inside the word are deliberate
        elif forms and lower not in forms:
            out.append(min(forms))  # WordNet only knows it as a name
        elif word[:1].isupper() and word in forms:
            out.append(word)  # open_clip and WordNet agree on a capital: "Alpine ibex"
        else:
            out.append(lower)
    return "".join(out)


def variant_key(term: str) -> str:
    """A key equal for spellings of the same name ("grey"/"gray", "bow tie"/"bow-tie"/"bowtie")."""
    words = [SPELLING.get(w, w) for w in re.split(r"[ \-]", term.lower())]
    return re.sub(r"[^a-z0-9]", "", "".join(words))


OBSCURE_KEYS = frozenset(variant_key(t) for t in OBSCURE)


def common_synonym(lemma: str, offset: str, wordnet: WordNet, zipf: Callable[[str, str], float]) -> bool:
    """Whether a WordNet lemma is an everyday English name for its synset."""
    if lemma in KEEP:
        return True
    if variant_key(lemma) in OBSCURE_KEYS or any(c.isdigit() or c == "." for c in lemma):
        return False
    words = re.split(r"[ \-]", lemma)
    if len(words) > 1 and words[0][:1].isupper() and wordnet.is_genus(words[0]):
        return False  # Latin binomial, "Tinca tinca"
    if wordnet.dominant(lemma) != offset:
        return False  # usually means something else: "painter" is not a cougar
    return all(zipf(w, "en") >= MIN_ZIPF for w in words if w)


def _known(key: str, seen: Container[str]) -> bool:
    return any(k in seen for k in (key, key + "s", key + "es", key.removesuffix("s"), key.removesuffix("es")))


def build_objects(wordnet: WordNet, reserved: set[str]) -> tuple[list[str], list[str]]:
    """The objects list, and the ImageNet names and synonyms left to the hand-written lists that have them."""
    from wordfreq import zipf_frequency

    classes = [(name, offset, wordnet.lemmas(offset)) for name, offset in imagenet_classes()]
    canonical = [
        list(SPLITS[name]) if name in SPLITS else [cased(name, lemmas, wordnet)] for name, _, lemmas in classes
    ]
    seen = {variant_key(t) for names in canonical for t in names}
    terms: list[str] = []
    for names, (_, offset, lemmas) in zip(canonical, classes, strict=True):
        terms += names
        for lemma in lemmas:
            key = variant_key(lemma)
            if not _known(key, seen) and common_synonym(lemma, offset, wordnet, zipf_frequency):
                seen.add(key)
                terms.append(lemma)
    # A hand-written list that has the same name keeps it: its prompt templates suit it better
    # ("a photo taken at a beach." rather than "a close-up photo of a beach.").
    left = [t for t in terms if t.lower() in reserved]
    return [t for t in _unique(terms) if t.lower() not in reserved], left


def _unique(terms: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return [t for t in terms if not (t.lower() in seen or seen.add(t.lower()))]


def read_list(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check(lists: dict[str, list[str]]) -> list[str]:
    """Problems that must be fixed by hand before the lists are committed."""
    problems = []
    owner: dict[str, str] = {}
    keys: dict[str, str] = {}
    for category, terms in lists.items():
        for term in terms:
            if "_" in term or term != " ".join(term.split()):
                problems.append(f"{category}: badly written term {term!r}")
            if term.lower() in owner:
                problems.append(f"{category}: {term!r} is already in {owner[term.lower()]}")
            elif _known(variant_key(term), keys):
                # Singular and plural, or two spellings, cost embedding time and split votes.
                problems.append(f"{category}: {term!r} is a variant of a term already listed")
            owner.setdefault(term.lower(), category)
            keys.setdefault(variant_key(term), term)
    composites = {f"{c} {s}" for c in TOY_COLOURS for s in TOY_SHAPES}
    composites |= {c + "s" for c in composites}
    problems += [f"toy-world concept name {t!r} in the list" for t in owner if t in composites]
    return problems


def main() -> int:
    wordnet = WordNet.load(WORDNET_DIR)
    hand = {name: read_list(HERE / f"{name}.txt") for name in HAND_LISTS}
    reserved = {t.lower() for terms in hand.values() for t in terms}
    objects, left = build_objects(wordnet, reserved)
    (HERE / "objects.txt").write_text(OBJECTS_HEADER + "\n".join(objects) + "\n", encoding="utf-8")
    lists = {"objects": objects, **hand}
    problems = check(lists)
    fashion = {part for name in FASHION_MNIST for part in (name.lower(), *name.lower().split("/"))}
    overlap = sorted(t for terms in lists.values() for t in terms if {t.lower(), t.lower().removesuffix("s")} & fashion)
    print({name: len(terms) for name, terms in lists.items()}, "total", sum(map(len, lists.values())))
    print("ImageNet/WordNet names left to hand-written lists:", ", ".join(left) or "none")
    print("Terms equal to a Fashion-MNIST class name:", ", ".join(overlap) or "none")
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
