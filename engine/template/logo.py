"""Template logos: PNG or JPEG checked by content, under 500 KB, 150x150 suggested."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import Location
from engine.template.findings import Finding, error, info, warning

MAX_LOGO_BYTES = 500 * 1024
SUGGESTED_SIZE = (150, 150)
FORMATS = {"PNG": "PNG", "JPEG": "JPEG"}
EXTENSIONS = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True, slots=True)
class LogoInfo:
    """What a valid logo is: its format and dimensions."""

    path: Path
    format: str
    width: int
    height: int
    size: int


def inspect_logo(path: Path, where: Location | None = None) -> tuple[LogoInfo | None, list[Finding]]:
    """Check a logo file by its content; return its info (None when unusable) and findings."""
    where = where or Location(str(path), 0, 0, "Logo")
    findings: list[Finding] = []
    try:
        size = path.stat().st_size
    except OSError:
        return None, [warning(f"logo file {path.name!r} not found beside the template", where, "logo")]
    if size >= MAX_LOGO_BYTES:
        findings.append(error(f"logo {path.name!r} is {size // 1024} KB; the limit is under 500 KB", where, "logo"))
        return None, findings
    if path.suffix.lower() not in EXTENSIONS:
        findings.append(warning(f"logo {path.name!r} should end in .png, .jpg or .jpeg", where, "logo"))
    try:
        from PIL import Image, UnidentifiedImageError

        with Image.open(path) as img:
            fmt = img.format or ""
            width, height = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        findings.append(error(f"logo {path.name!r} is not a readable PNG or JPEG image ({exc})", where, "logo"))
        return None, findings
    except Exception as exc:  # Pillow raises assorted errors on hostile images
        findings.append(error(f"logo {path.name!r} cannot be read as an image ({type(exc).__name__})", where, "logo"))
        return None, findings
    if fmt not in FORMATS:
        findings.append(error(f"logo {path.name!r} is a {fmt or 'unknown'} image; only PNG and JPEG are accepted",
                              where, "logo"))
        return None, findings
    if (width, height) != SUGGESTED_SIZE:
        findings.append(warning(f"logo {path.name!r} is {width}x{height}; 150x150 is suggested", where, "logo-size"))
    else:
        findings.append(info(f"logo {path.name!r}: {fmt} {width}x{height}, {size} bytes", where, "logo-size"))
    return LogoInfo(path, fmt, width, height, size), findings


def check_logo(path: Path, where: Location | None = None) -> list[Finding]:
    return inspect_logo(path, where)[1]
