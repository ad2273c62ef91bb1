"""Real English word lists the tiny world draws attribute values and template slots from.

Attribute *values* are ordinary English (professions, habitats, ...) so the models learn
English; which value belongs to which invented entity is the seeded, unguessable part.
"""

PROFESSIONS = (
    "baker",
    "astronomer",
    "carpenter",
    "poet",
    "physician",
    "sailor",
    "weaver",
    "architect",
    "botanist",
    "violinist",
    "cartographer",
    "blacksmith",
    "judge",
    "potter",
    "engineer",
    "librarian",
)
COLOURS = (
    "red",
    "blue",
    "green",
    "yellow",
    "purple",
    "orange",
    "white",
    "black",
    "grey",
    "brown",
    "pink",
    "silver",
)
HABITATS = (
    "desert",
    "rainforest",
    "tundra",
    "savanna",
    "mountains",
    "wetlands",
    "coral reefs",
    "caves",
    "grasslands",
    "mangroves",
)
DIETS = (
    "insects",
    "fruit",
    "fish",
    "seeds",
    "leaves",
    "small mammals",
    "nectar",
    "algae",
    "roots",
    "mushrooms",
)
LEGS = (2, 4, 6, 8)
STATES = ("solid", "liquid", "gas")
COMPOUND_USES = (
    "dyeing wool",
    "preserving food",
    "polishing glass",
    "cleaning metal",
    "fertilising soil",
    "sealing pottery",
    "tanning leather",
    "purifying water",
    "hardening steel",
    "bleaching paper",
)

# Commonsense: (object, typical use, usual place).
OBJECTS = (
    ("broom", "sweeping the floor", "closet"),
    ("knife", "cutting bread", "kitchen"),
    ("pillow", "resting your head", "bedroom"),
    ("umbrella", "staying dry in the rain", "hallway"),
    ("toothbrush", "cleaning your teeth", "bathroom"),
    ("hammer", "driving nails", "toolbox"),
    ("kettle", "boiling water", "kitchen"),
    ("shovel", "digging holes", "garden shed"),
    ("stapler", "joining sheets of paper", "office"),
    ("blanket", "keeping warm", "bedroom"),
    ("towel", "drying your body", "bathroom"),
    ("ladder", "reaching high places", "garage"),
    ("wallet", "carrying money", "pocket"),
    ("oven", "baking bread", "kitchen"),
    ("backpack", "carrying books", "school"),
    ("saddle", "riding a horse", "stable"),
    ("anchor", "holding a boat in place", "harbour"),
    ("microscope", "seeing tiny things", "laboratory"),
    ("whistle", "getting attention", "playground"),
    ("candle", "giving light", "dining room"),
    ("rake", "gathering leaves", "garden shed"),
    ("mirror", "seeing your reflection", "bathroom"),
    ("chalk", "writing on a board", "classroom"),
    ("fishing rod", "catching fish", "lake"),
    ("helmet", "protecting your head", "construction site"),
    ("spoon", "eating soup", "kitchen"),
    ("telescope", "looking at stars", "observatory"),
    ("lock", "securing a door", "front door"),
)

# Translation: the English side of English-Velan sentences.
NOUNS = (
    "dog",
    "cat",
    "bird",
    "river",
    "tree",
    "child",
    "farmer",
    "house",
    "boat",
    "horse",
    "stone",
    "apple",
    "teacher",
    "fox",
    "mountain",
    "book",
    "fish",
    "king",
    "garden",
    "wolf",
)
VERBS = (
    "sees",
    "finds",
    "carries",
    "follows",
    "paints",
    "watches",
    "helps",
    "builds",
    "loves",
    "hides",
)
ADJECTIVES = ("big", "small", "old", "young", "red", "green", "quiet", "happy", "dark", "bright")

# Logic puzzles (BBH-style), with the familiar BBH cast of names.
PUZZLE_NAMES = ("Alice", "Bob", "Claire", "Dave", "Eve", "Frank", "Gertrude", "Helen")
COMPARISONS = (
    ("taller", "shorter", "tallest", "shortest"),
    ("older", "younger", "oldest", "youngest"),
    ("heavier", "lighter", "heaviest", "lightest"),
    ("faster", "slower", "fastest", "slowest"),
)
BALLS = ("red", "blue", "green", "yellow", "white")

# Reading comprehension (DROP-like): market reports and matches.
GOODS = ("figs", "plums", "olives", "melons", "pears", "onions", "lemons", "chestnuts")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MASCOTS = ("Hawks", "Otters", "Foxes", "Wolves", "Herons", "Badgers", "Lynxes", "Rams")
QUARTERS = ("first", "second", "third", "fourth")

# Pile-domain analogues: PhilPapers, NIH ExPorter, USPTO backgrounds.
PHIL_CONCEPTS = (
    "virtue",
    "justice",
    "knowledge",
    "free will",
    "personal identity",
    "moral luck",
    "consciousness",
    "necessity",
    "the good",
    "testimony",
    "causation",
    "meaning",
    "rationality",
    "political obligation",
)
DISEASES = (
    "type 2 diabetes",
    "pancreatic cancer",
    "Alzheimer's disease",
    "asthma",
    "sepsis",
    "chronic kidney disease",
    "multiple sclerosis",
    "heart failure",
    "osteoarthritis",
    "tuberculosis",
    "glioblastoma",
    "lupus",
)
MECHANISMS = ("inhibits", "activates", "phosphorylates", "stabilises", "degrades", "sequesters")
MODEL_SYSTEMS = (
    "murine models",
    "patient-derived organoids",
    "zebrafish larvae",
    "primary human fibroblasts",
    "induced pluripotent stem cells",
    "cohort samples",
)
PATENT_FIELDS = (
    "fluid handling",
    "semiconductor packaging",
    "vehicle seating",
    "food processing",
    "wireless charging",
    "medical imaging",
    "irrigation",
    "textile finishing",
)
DEVICES = (
    "valve assembly",
    "fastening clip",
    "heat exchanger",
    "hinge mechanism",
    "sensor housing",
    "pump impeller",
    "cable connector",
    "filter cartridge",
)
COMPONENTS = (
    "resilient gasket",
    "threaded collar",
    "annular flange",
    "spring-biased latch",
    "elongated shaft",
    "perforated baffle",
    "locking tab",
    "tapered bore",
)
DEFECTS = (
    "leakage under pressure",
    "premature wear",
    "excessive manufacturing cost",
    "difficult assembly",
    "thermal deformation",
    "misalignment during installation",
)
