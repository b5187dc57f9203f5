"""Photos uploaded in the admin, under gunicorn (SPEC §13): one over 40 megapixels (or whose
header claims it; 30 for formats decoded whole, such as PNG) is refused with a French message
before it is decoded; no accepted photo takes the worker past ~250 MB. The worker's peak
resident memory (VmHWM) is read from /proc, reset before each upload."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from shop.tests.faults.conftest import ROUTER, report

pytestmark = pytest.mark.faults

LIMIT_MB = 250
MAKE_PHOTOS = """
import sys
from PIL import Image
folder = sys.argv[1]
w, h = 7740, 5160  # 39.9 MP, as a 40 MP camera's photo
light = Image.radial_gradient("L").resize((w, h))
grain = Image.effect_noise((w, h), 40)
photo = Image.merge("RGB", (light, grain, Image.linear_gradient("L").resize((w, h))))
photo.save(f"{folder}/40mp.jpg", quality=85)
photo.save(f"{folder}/40mp.png", compress_level=1)  # refused: PNG is decoded whole
photo.crop((0, 0, 6700, 4470)).save(f"{folder}/30mp.png", compress_level=1)
del photo, light, grain
Image.new("RGB", (13300, 13300), (200, 180, 160)).save(f"{folder}/177mp.png", optimize=True)
"""


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    # In a process of its own: making them takes memory the test process should not keep.
    subprocess.run([sys.executable, "-c", MAKE_PHOTOS, str(folder)], check=True, timeout=300)
    return folder


def peak_mb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) // 1024


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from now


class Owner:
    """The owner, logged in to the admin through its real login form."""

    def __init__(self, shop) -> None:
        self.shop, self.cookies = shop, {}
        shop.shell(
            "from django.contrib.auth.models import User; "
            "User.objects.filter(username='owner').exists() or "
            "User.objects.create_superuser('owner', 'o@example.com', 'un mot de passe 42 !'); "
            "print('true')"
        )
        admin = "/admin/login/"
        response = self.post(admin, {"username": "owner", "password": "un mot de passe 42 !"})
        assert response.status_code == 302, response.text[:500]

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {
            **ROUTER,
            "Referer": self.shop.https_base + path,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        response = requests.request(
            method, self.shop.base + path, headers=headers, allow_redirects=False, timeout=120,
            **kwargs,
        )  # fmt: skip
        self.cookies.update(response.cookies.get_dict())
        return response

    def post(self, path: str, data: dict, files: dict | None = None) -> requests.Response:
        page = self.request("GET", path).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request("POST", path, data={**data, "csrfmiddlewaretoken": token}, files=files)


def test_photos_are_refused_over_40_megapixels_and_accepted_ones_stay_under_250_mb(
    make_shop, photos
):
    shop = make_shop(WEB_CONCURRENCY="1")
    [worker] = shop.workers()
    owner = Owner(shop)
    add = "/admin/products/product/add/"
    inline = {
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    owner.request("GET", add)  # the form's first rendering is not the upload's cost
    peaks = {}
    answers = {}
    for name in ("177mp.png", "40mp.png", "40mp.jpg", "30mp.png"):
        reset_peak(worker)
        with (photos / name).open("rb") as photo:
            answers[name] = owner.post(
                add,
                {
                    "name": f"Photo {name}",
                    "slug": f"photo-{name.replace('.', '-')}",
                    "price": "120.00",
                    "in_stock": "on",
                    **inline,
                },
                files={"image": (name, photo)},
            )
        peaks[name] = peak_mb(worker)

    report("photo uploads", **{f"peak_mb_{n}": mb for n, mb in peaks.items()})
    refused = answers["177mp.png"]
    assert refused.status_code == 200
    assert "Cette photo est trop grande" in refused.text
    assert "13\N{NO-BREAK SPACE}300 × 13\N{NO-BREAK SPACE}300" in refused.text
    assert "en JPEG" in answers["40mp.png"].text  # a PNG is held to 30 MP
    assert answers["40mp.jpg"].status_code == 302
    assert answers["30mp.png"].status_code == 302
    assert max(peaks.values()) < LIMIT_MB
    assert peaks["177mp.png"] < 120  # refused before it is decoded
    assert peaks["40mp.png"] < 120
