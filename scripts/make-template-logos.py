"""Draw the 150x150 PNG logos of the shipped templates (run from the repo root).

    python scripts/make-template-logos.py

Each logo is a rounded tile in the template's colour with a short label; Pillow only.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

LOGOS = {
    "rt5-basic": ("RT5", "basic", (158, 27, 50)),
    "rt5-token": ("RT5", "token", (120, 20, 38)),
    "django-helpdesk-oauth2": ("dh", "OAuth2", (12, 75, 51)),
    "demo": ("demo", "deskline", (38, 84, 164)),
}


def draw(label: str, caption: str, colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGBA", (150, 150), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((4, 4, 145, 145), radius=26, fill=colour + (255,))
    big, small = ImageFont.load_default(size=52 if len(label) <= 3 else 40), ImageFont.load_default(size=20)
    pen.text((75, 66), label, font=big, fill="white", anchor="mm")
    pen.text((75, 115), caption, font=small, fill=(255, 255, 255, 220), anchor="mm")
    return image


def main() -> None:
    root = Path(__file__).resolve().parent.parent / "templates"
    for folder, (label, caption, colour) in LOGOS.items():
        draw(label, caption, colour).save(root / folder / "logo.png", optimize=True)


if __name__ == "__main__":
    main()
