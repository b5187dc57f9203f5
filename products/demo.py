"""The demo catalogue: two dozen French pieces with pictures drawn by Pillow, in five
categories, some with several photos."""

import hashlib
import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils.text import slugify
from PIL import Image, ImageDraw

from products.models import Category, Condition, Product, ProductImage

DEMO_PIECES: list[tuple[str, str, str]] = [
    (
        "Vase en grès émaillé bleu",
        "89.00",
        "Tourné à la main dans un atelier de la Drôme, émail bleu profond.",
    ),
    (
        "Fauteuil bridge années 50",
        "420.00",
        "Velours vert d'origine, pieds en hêtre, ressorts refaits.",
    ),
    ("Lampe champignon en opaline", "145.00", "Opaline blanche et pied laiton, câblage neuf."),
    ("Miroir soleil en rotin", "78.00", "Diamètre 60 cm, rotin naturel tressé."),
    ("Huile sur toile « Port de Honfleur »", "1250.00", "Signée, vers 1960, cadre doré d'origine."),
    ("Carafe en cristal taillé", "65.00", "Bouchon d'origine, aucun éclat."),
    ("Commode de métier en chêne", "980.00", "Douze tiroirs, poignées en laiton, patine ancienne."),
    ("Service à café Limoges", "120.00", "Six tasses et soucoupes, filet or."),
    ("Tapis berbère Beni Ouarain", "560.00", "Laine épaisse, 170 × 240 cm, motifs losanges."),
    ("Applique en laiton articulée", "95.00", "Bras orientable, abat-jour tôle laquée."),
    ("Chaise Baumann bistrot", "70.00", "Bois courbé, assise cannée refaite."),
    ("Affiche lithographique « Côte d'Azur »", "210.00", "Tirage d'époque, entoilée."),
    ("Coupe en céramique Vallauris", "130.00", "Émail lave, signée sous la base."),
    ("Boîte à bijoux marquetée", "58.00", "Bois de rose et citronnier, intérieur velours."),
    ("Paire de bougeoirs en bronze", "88.00", "Style Louis-Philippe, patine dorée."),
    ("Plaid en laine tissé main", "110.00", "Laine des Pyrénées, franges nouées."),
    ("Sculpture bois flotté « Héron »", "240.00", "Pièce d'artiste, socle en pierre."),
    ("Table d'appoint en travertin", "390.00", "Plateau rond, pied tulipe."),
    ("Panier de marché en osier", "42.00", "Anses cuir, tressage serré."),
    ("Gravure « Jardin des Plantes »", "75.00", "Eau-forte XIXᵉ, marie-louise neuve."),
    ("Théière en fonte émaillée", "54.00", "Émail rouge, filtre inox."),
    ("Console en fer forgé", "470.00", "Plateau marbre blanc, volutes d'origine."),
    ("Pichet en faïence de Quimper", "48.00", "Décor peint main, marque HB."),
    ("Horloge de gare en tôle", "260.00", "Double face, mécanisme à quartz neuf."),
]

DEMO_CATEGORIES: list[tuple[str, str, list[str]]] = [
    (
        "Mobilier",
        "Fauteuils, commodes et tables, restaurés quand il le fallait.",
        ["Fauteuil bridge", "Commode de métier", "Chaise Baumann", "Table d'appoint", "Console"],
    ),
    (
        "Luminaires",
        "Lampes et appliques, toutes recâblées aux normes.",
        ["Lampe champignon", "Applique en laiton", "Paire de bougeoirs"],
    ),
    (
        "Arts de la table",
        "Céramiques, cristal et porcelaine pour dresser une table qui ne ressemble à aucune autre.",
        [
            "Vase en grès",
            "Carafe en cristal",
            "Service à café",
            "Coupe en céramique",
            "Théière",
            "Pichet en faïence",
        ],
    ),
    (
        "Décoration",
        "Miroirs, tapis, paniers et objets choisis un à un.",
        [
            "Miroir soleil",
            "Tapis berbère",
            "Boîte à bijoux",
            "Plaid en laine",
            "Panier de marché",
            "Horloge de gare",
            "Sculpture bois flotté",
        ],
    ),
    (
        "Art et affiches",
        "Peintures, gravures et affiches d'époque.",
        ["Huile sur toile", "Affiche lithographique", "Gravure"],
    ),
]

# Pieces made new by a craftsman or an artist; every other demo piece has lived before.
DEMO_NEW_PIECES = ("Vase en grès", "Plaid en laine", "Sculpture bois flotté")

# More photos for a few pieces: (start of the name, alt texts of the extra photos).
DEMO_EXTRA_PHOTOS: list[tuple[str, list[str]]] = [
    ("Fauteuil bridge", ["Le fauteuil de trois quarts", "Détail du velours et du pied"]),
    ("Vase en grès", ["Le vase vu de dessus", "La signature sous la base"]),
    ("Lampe champignon", ["La lampe allumée"]),
    ("Commode de métier", ["Les tiroirs ouverts", "Détail d'une poignée en laiton"]),
    ("Théière en fonte", ["Le filtre en inox"]),
]

PALETTE = ["#8a3b2e", "#3b5b6d", "#6d7b3b", "#b07a12", "#5b4a6d", "#2f6b5a", "#9c5d3a", "#44546a"]


def demo_image(name: str) -> ContentFile:
    """A 600×600 JPEG, the same for the same name: a coloured still life of shapes."""
    seed = hashlib.sha256(name.encode()).digest()
    background = PALETTE[seed[0] % len(PALETTE)]
    image = Image.new("RGB", (600, 600), "#efe9df")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 420, 600, 600], fill="#e2d8c9")
    x, w = 150 + seed[1] % 100, 180 + seed[2] % 80
    shape = seed[3] % 3
    if shape == 0:
        draw.ellipse([x, 140, x + w, 140 + w + 100], fill=background)
    elif shape == 1:
        draw.rounded_rectangle([x, 120, x + w, 440], radius=30, fill=background)
    else:
        draw.polygon([(x, 440), (x + w // 2, 110), (x + w, 440)], fill=background)
    draw.ellipse([430, 60, 520, 150], fill=PALETTE[seed[4] % len(PALETTE)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return ContentFile(buffer.getvalue(), name=f"{slugify(name)}.jpg")


def _demo_category(name: str) -> str:
    return next(
        category for category, _, starts in DEMO_CATEGORIES if name.startswith(tuple(starts))
    )


def load_demo_categories() -> dict[str, Category]:
    """The demo categories, created if missing; the owner's edits are kept."""
    categories = {}
    for position, (name, description, _) in enumerate(DEMO_CATEGORIES, start=1):
        categories[name], _ = Category.objects.get_or_create(
            slug=slugify(name),
            defaults={"name": name, "description": description, "position": position},
        )
    return categories


def load_demo_catalogue() -> tuple[int, int]:
    """Create the demo pieces that are missing, with their categories and photos.
    Returns (created, already there)."""
    categories = load_demo_categories()
    created = 0
    for name, price, description in DEMO_PIECES:
        product, was_created = Product.objects.get_or_create(
            slug=slugify(name),
            defaults={
                "name": name,
                "price": Decimal(price),
                "description": description,
                "category": categories[_demo_category(name)],
                "condition": Condition.NEW
                if name.startswith(DEMO_NEW_PIECES)
                else Condition.VINTAGE,
            },
        )
        if was_created:
            # Saving a photo writes its renditions (cards, product page) once.
            product.image.save(f"{product.slug}.jpg", demo_image(name), save=True)
            for start, alts in DEMO_EXTRA_PHOTOS:
                if name.startswith(start):
                    for position, alt in enumerate(alts, start=1):
                        extra = ProductImage(product=product, alt=alt, position=position)
                        extra.image.save(
                            f"{product.slug}-{position + 1}.jpg",
                            demo_image(f"{name} {alt}"),
                            save=True,
                        )
            created += 1
    return created, len(DEMO_PIECES) - created
