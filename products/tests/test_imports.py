"""A spreadsheet of pieces, imported and exported in the admin (products/imports.py)."""

import csv
import functools
import http.server
import io
import threading
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from products import imports
from products.demo import demo_image
from products.models import Category, Product

IMPORT = reverse("admin:products_product_import")
PROCESS = reverse("admin:products_product_process_import")
EXPORT = reverse("admin:products_product_export")
HEADERS = ["Nom", "Adresse web", "Catégorie", "Prix (€)", "Description", "Photo"]
CSV_FORMAT, XLSX_FORMAT = "0", "1"


def csv_file(rows: list[list], *, headers=HEADERS, delimiter=",", encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def preview(client, content: bytes, *, name="pieces.csv", file_format=CSV_FORMAT):
    """The first step: upload, dry run, the preview with its confirmation form."""
    return client.post(
        IMPORT,
        {"format": file_format, "import_file": SimpleUploadedFile(name, content)},
    )


def import_file(client, content: bytes, **kwargs):
    """Upload, check the preview has no error, confirm: the response after the import."""
    shown = preview(client, content, **kwargs)
    assert shown.status_code == 200
    result = shown.context["result"]
    assert not result.has_errors(), [e.error for row in result.row_errors() for e in row[1]]
    assert not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    confirm = shown.context["confirm_form"]
    return client.post(PROCESS, {**confirm.initial}, follow=True)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m.message)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def categories(db):
    return {
        "Luminaires": Category.objects.create(name="Luminaires", slug="luminaires"),
        "Céramique": Category.objects.create(name="Céramique", slug="ceramique"),
    }


def two_hundred_rows(price=lambda n: f"{n},50") -> list[list]:
    return [
        [
            f"Pièce importée n° {n}",
            f"piece-importee-{n}",
            "Céramique" if n % 2 else "luminaires",
            price(n),
            f"Description de la pièce {n}.",
            "",
        ]
        for n in range(1, 201)
    ]


# 200 pieces in one go, then again: updated, not duplicated


def test_a_csv_of_200_pieces_is_imported_in_one_go_and_reimported_as_updates(
    staff_client, categories
):
    started = time.monotonic()
    response = import_file(staff_client, csv_file(two_hundred_rows()))
    first_import = time.monotonic() - started

    assert response.status_code == 200
    assert Product.objects.count() == 200
    piece = Product.objects.get(slug="piece-importee-7")
    assert piece.price == Decimal("7.50")  # « 7,50 »: the French comma
    assert piece.category == categories["Céramique"]
    assert piece.in_stock
    assert Product.objects.get(slug="piece-importee-8").category == categories["Luminaires"]
    assert any("200 nouveau" in text or "200" in text for _, text in messages_of(response))

    started = time.monotonic()
    import_file(staff_client, csv_file(two_hundred_rows(price=lambda n: f"{n}.00")))
    second_import = time.monotonic() - started

    assert Product.objects.count() == 200
    assert Product.objects.get(slug="piece-importee-7").price == Decimal("7.00")
    # Both steps (preview and import) of 200 rows, well inside a request's 30 s.
    assert first_import < 25, first_import
    assert second_import < 25, second_import


def test_reimporting_an_unchanged_file_changes_nothing(staff_client, categories):
    rows = two_hundred_rows()[:5]
    import_file(staff_client, csv_file(rows))
    before = dict(Product.objects.values_list("slug", "updated_at"))

    shown = preview(staff_client, csv_file(rows))

    assert shown.context["result"].totals["skip"] == 5
    import_file(staff_client, csv_file(rows))
    assert dict(Product.objects.values_list("slug", "updated_at")) == before


def test_without_an_address_column_the_address_comes_from_the_name(staff_client, categories):
    """Two pieces may share a name: each gets its own address, the same at each import."""
    headers = ["Nom", "Prix (€)"]
    rows = [["Vase bleu", "40"], ["Vase bleu", "45"], ["Lampe à poser", "1 250,00"]]

    import_file(staff_client, csv_file(rows, headers=headers))
    import_file(staff_client, csv_file(rows, headers=headers))

    assert dict(Product.objects.values_list("slug", "price")) == {
        "vase-bleu": Decimal("40.00"),
        "vase-bleu-2": Decimal("45.00"),
        "lampe-a-poser": Decimal("1250.00"),
    }


def test_a_french_excel_csv_with_semicolons_and_windows_encoding(staff_client, categories):
    content = csv_file(
        [["Théière émaillée", "", "Céramique", "54,90", "Fonte, émail rouge.", ""]],
        delimiter=";",
        encoding="cp1252",
    )

    import_file(staff_client, content)

    piece = Product.objects.get()
    assert (piece.name, piece.slug, piece.price) == (
        "Théière émaillée",
        "theiere-emaillee",
        Decimal("54.90"),
    )
    assert piece.description == "Fonte, émail rouge."


def test_an_excel_file_is_imported(staff_client, categories):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(["Lampe champignon", "lampe-champignon", "Luminaires", 145.5, "Laiton.", None])
    sheet.append(["Carafe", "carafe", "", "32,00", "", None])
    content = io.BytesIO()
    book.save(content)

    import_file(staff_client, content.getvalue(), name="stock.xlsx", file_format=XLSX_FORMAT)

    assert dict(Product.objects.values_list("slug", "price")) == {
        "lampe-champignon": Decimal("145.50"),
        "carafe": Decimal("32.00"),
    }


# Errors: said in French, nothing imported


@pytest.mark.parametrize(
    ("row", "says"),
    [
        (["Vase", "vase", "", "1,250", "", ""], "« 1,250 » est ambigu"),
        (["Vase", "vase", "", "0", "", ""], "Le prix doit être supérieur à zéro."),
        (["Vase", "vase", "Verrerie", "12", "", ""], "Catégorie inconnue : « Verrerie »"),
        (["Vase", "vase", "", "12", "", "vase.jpg"], "Photo introuvable : « vase.jpg »"),
        (["Vase", "vase", "", "12", "", "ftp://x/vase.jpg"], "n'est pas une adresse web"),
        (["Vase", "vase", "", "12", "", "../secret.jpg"], "dossier imports/"),
    ],
)
def test_a_wrong_row_is_shown_with_its_reason_and_nothing_is_imported(
    staff_client, categories, row, says
):
    good = ["Carafe", "carafe", "", "30", "", ""]

    shown = preview(staff_client, csv_file([good, row]))

    result = shown.context["result"]
    messages = [m for r in result.invalid_rows for ms in r.error_dict.values() for m in ms]
    assert any(says in m for m in messages), messages
    columns = {key for r in result.invalid_rows for key in r.error_dict}
    assert columns <= {"Nom", "Adresse web", "Catégorie", "Prix (€)", "Description", "Photo"}
    assert "confirm_form" not in shown.context
    assert says in shown.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert not Product.objects.exists()


def test_a_file_without_the_name_column_is_refused(staff_client, db):
    shown = preview(staff_client, csv_file([["12"]], headers=["Prix"]))

    assert shown.context["result"].has_errors()
    assert "La colonne « Nom » manque." in shown.content.decode().replace("&#x27;", "'")
    assert not Product.objects.exists()


# Stock is never imported


def test_an_import_never_puts_a_sold_piece_back_on_sale_nor_drops_a_hold(
    staff_client, make_product, sell_to_paid_order
):
    sold = make_product(name="Miroir", slug="miroir", price="80")
    sell_to_paid_order(sold)
    held = make_product(name="Lampe", slug="lampe", price="60")
    Product.objects.filter(pk=held.pk).update(held_until=sold.created_at.replace(year=2100))

    import_file(
        staff_client,
        csv_file(
            [["Miroir soleil", "miroir", "", "85", "", ""], ["Lampe", "lampe", "", "65", "", ""]]
        ),
    )

    sold.refresh_from_db()
    held.refresh_from_db()
    assert (sold.name, sold.price, sold.in_stock) == ("Miroir soleil", Decimal("85.00"), False)
    assert held.price == Decimal("65.00")
    assert held.held_until.year == 2100


def test_a_sale_recorded_during_the_import_is_kept(
    staff_client, make_product, sell_to_paid_order, monkeypatch
):
    """The import writes only its own columns: a piece sold between the moment the import
    read it and the moment it saves it stays sold."""
    piece = make_product(name="Fauteuil", slug="fauteuil", price="300")
    original = imports.ProductResource.import_instance

    def import_instance(resource, instance, row, **kwargs):
        original(resource, instance, row, **kwargs)
        if instance.pk == piece.pk and not kwargs.get("dry_run"):
            sell_to_paid_order(piece)

    monkeypatch.setattr(imports.ProductResource, "import_instance", import_instance)

    import_file(staff_client, csv_file([["Fauteuil bridge", "fauteuil", "", "310", "", ""]]))

    piece.refresh_from_db()
    assert (piece.name, piece.in_stock) == ("Fauteuil bridge", False)


# Export


def test_the_export_has_french_columns_and_reimports_as_is(staff_client, categories, make_product):
    lamp = make_product(
        name="Lampe", slug="lampe", price="1250.5", category=categories["Luminaires"]
    )
    lamp.image.save("lampe.jpg", demo_image("Lampe"), save=True)
    make_product(name="Miroir", slug="miroir", in_stock=False)

    response = staff_client.post(EXPORT, {"format": CSV_FORMAT})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [*HEADERS, "Statut"]
    exported = {row[1]: row for row in rows[1:]}
    assert exported["lampe"][2:4] == ["Luminaires", "1250,50"]
    assert exported["lampe"][5].endswith(lamp.image.url)
    assert exported["miroir"][6] == "Vendu"

    image_before = Product.objects.get(slug="lampe").image.name
    shown = preview(staff_client, response.content)
    assert shown.context["result"].totals["skip"] == 2  # the photo is the piece's own
    import_file(staff_client, response.content)
    assert Product.objects.get(slug="lampe").image.name == image_before


def test_the_export_is_offered_as_excel_too(staff_client, make_product):
    make_product(name="Lampe", slug="lampe", price="12")

    response = staff_client.post(EXPORT, {"format": XLSX_FORMAT})

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]][:4] == ["Nom", "Adresse web", "Catégorie", "Prix (€)"]
    assert [c.value for c in sheet[2]][:4] == ["Lampe", "lampe", None, "12,00"]


def test_the_list_offers_import_and_export_in_french(staff_client, db):
    html = staff_client.get(reverse("admin:products_product_changelist")).content.decode()

    assert ">Importer<" in html
    assert ">Exporter<" in html


def test_a_staff_member_who_may_only_view_pieces_cannot_import(client, django_user_model, db):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("regard", password="x" * 12, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_product"))
    client.force_login(viewer)

    assert client.get(IMPORT).status_code == 403


# Photos: by file name in imports/, or by address on the web


def test_a_photo_named_in_the_file_is_taken_from_the_imports_folder(staff_client, settings, db):
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True)
    (folder / "vase.jpg").write_bytes(demo_image("Vase").read())

    response = import_file(staff_client, csv_file([["Vase", "vase", "", "40", "", "vase.jpg"]]))

    piece = Product.objects.get()
    assert piece.image.name.startswith("products/import-")
    assert Path(piece.photo_large.path).exists()
    assert ("success", "1 photo(s) ajoutée(s).") in messages_of(response)

    # Imported again: recognised, not copied again.
    import_file(staff_client, csv_file([["Vase", "vase", "", "40", "", "vase.jpg"]]))
    assert Product.objects.get().image.name == piece.image.name


class _PhotoServer:
    """A web server on 127.0.0.1 serving demo photos, counting what it is asked."""

    def __init__(self, tmp_path: Path) -> None:
        (tmp_path / "lampe.jpg").write_bytes(demo_image("Lampe").read())
        (tmp_path / "pas-une-photo.jpg").write_bytes(b"<html>Not found</html>")
        self.requests: list[str] = []
        served = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                served.requests.append(self.path)

            def do_GET(self) -> None:
                if self.path == "/ailleurs.jpg":
                    self.send_response(302)
                    self.send_header("Location", "/lampe.jpg")
                    self.end_headers()
                    return
                super().do_GET()

        handler = functools.partial(Handler, directory=str(tmp_path))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def photo_server(tmp_path, monkeypatch):
    """The photo server, with the check that refuses the local network lifted for it alone:
    that check is tested on its own below."""
    server = _PhotoServer(tmp_path)
    real_check = imports._check_public_host

    def check(url: str) -> None:
        if not url.startswith(server.url):
            real_check(url)

    monkeypatch.setattr(imports, "_check_public_host", check)
    yield server
    server.close()


def test_a_photo_given_by_its_address_is_downloaded_once(staff_client, photo_server, db):
    row = ["Lampe", "lampe", "", "60", "", f"{photo_server.url}/lampe.jpg"]

    shown = preview(staff_client, csv_file([row]))
    assert photo_server.requests == []  # the preview downloads nothing

    response = import_file(staff_client, csv_file([row]))

    piece = Product.objects.get()
    assert ("success", "1 photo(s) ajoutée(s).") in messages_of(response)
    assert Path(piece.card_small.path).exists()
    assert shown.status_code == 200
    asked = len(photo_server.requests)
    import_file(staff_client, csv_file([row]))
    assert len(photo_server.requests) == asked  # already there: not downloaded again


def test_a_redirect_is_followed_and_a_bad_photo_is_reported(staff_client, photo_server, db):
    rows = [
        ["Lampe", "lampe", "", "60", "", f"{photo_server.url}/ailleurs.jpg"],
        ["Vase", "vase", "", "40", "", f"{photo_server.url}/pas-une-photo.jpg"],
        ["Bol", "bol", "", "20", "", f"{photo_server.url}/absente.jpg"],
    ]

    response = import_file(staff_client, csv_file(rows))

    assert Product.objects.count() == 3  # the pieces are imported, with or without photo
    assert Product.objects.get(slug="lampe").image
    assert not Product.objects.get(slug="vase").image
    warnings = [text for level, text in messages_of(response) if level == "warning"]
    assert any("« Vase »" in w and "n'est pas une photo" in w for w in warnings), warnings
    assert any("« Bol »" in w and "répond 404" in w for w in warnings), warnings


def test_photos_past_the_time_budget_are_left_for_the_next_import(
    staff_client, photo_server, db, monkeypatch
):
    monkeypatch.setattr(imports, "PHOTOS_BUDGET_SECONDS", 0)
    row = ["Lampe", "lampe", "", "60", "", f"{photo_server.url}/lampe.jpg"]

    response = import_file(staff_client, csv_file([row]))

    assert not Product.objects.get().image
    assert any("1 photo(s) restent à ajouter" in text for _, text in messages_of(response))

    monkeypatch.setattr(imports, "PHOTOS_BUDGET_SECONDS", 10)
    import_file(staff_client, csv_file([row]))
    assert Product.objects.get().image


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/photo.jpg", "http://localhost/photo.jpg", "http://10.0.0.8/photo.jpg"],
)
def test_photos_are_never_fetched_from_the_shops_own_network(url):
    with pytest.raises(imports.PhotoError, match="adresse refusée"):
        imports._fetch(imports.PhotoSource(url, is_url=True), deadline=time.monotonic() + 5)
