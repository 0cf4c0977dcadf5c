"""The template store: the user's custom templates, one folder each (XML + logo).

Lives in ``<data dir>/templates/`` (platformdirs ``user_data_dir("deskline")``, or ``$DESKLINE_DATA_DIR``).
Every change is atomic: a template folder is built under a temporary name and renamed into place,
and a deleted one is renamed away before it is removed, so a crash never leaves half a template.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import LocatedError, Location, TemplateError
from engine.files import atomic_write, fsync_dir
from engine.template.findings import Finding, Severity
from engine.template.lint import lint_template
from engine.template.logo import LogoInfo, inspect_logo
from engine.template.model import Template, load_template

MAX_TEMPLATES = 10
TEMPLATE_FILE = "template.xml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
_TEMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"


class StoreError(LocatedError):
    """A store operation that was refused (limit reached, name taken, unreadable file, ...)."""


def data_dir() -> Path:
    """deskline's data dir: ``$DESKLINE_DATA_DIR`` or platformdirs' user data dir."""
    env = os.environ.get("DESKLINE_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("deskline"))


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """One template in the store."""

    name: str
    folder: Path
    title: str  # Information/@Name
    key: str
    version: str
    auth_type: str
    logo: LogoInfo | None

    @property
    def file(self) -> Path:
        return self.folder / TEMPLATE_FILE


@dataclass(frozen=True, slots=True)
class ImportResult:
    stored: StoredTemplate
    findings: list[Finding]  # lint and logo findings (errors in them did not stop the import)


class TemplateStore:
    """Import, export, duplicate, delete and list custom templates (at most 10)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else data_dir() / "templates"

    # -- reading ------------------------------------------------------------------------------------
    def _folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and (p / TEMPLATE_FILE).is_file())

    def names(self) -> list[str]:
        return [p.name for p in self._folders()]

    def list(self) -> list[StoredTemplate]:
        """Every stored template (unreadable ones are listed with what is known)."""
        out = []
        for folder in self._folders():
            out.append(self._describe(folder))
        return out

    def _describe(self, folder: Path) -> StoredTemplate:
        try:
            t = load_template(folder / TEMPLATE_FILE)
        except TemplateError:
            return StoredTemplate(folder.name, folder, "(unreadable)", "", "", "", None)
        logo = None
        if t.general.logo:
            logo, _ = inspect_logo(folder / Path(t.general.logo).name)
        g = t.general
        return StoredTemplate(folder.name, folder, g.name, g.key, g.version, g.auth_type, logo)

    def get(self, name: str) -> StoredTemplate:
        return self._describe(self._existing(name))

    def load(self, name: str) -> Template:
        return load_template(self._existing(name) / TEMPLATE_FILE)

    def path(self, name: str) -> Path:
        """The XML file of a stored template."""
        return self._existing(name) / TEMPLATE_FILE

    def _existing(self, name: str) -> Path:
        folder = self.root / name
        if not _NAME.match(name) or not (folder / TEMPLATE_FILE).is_file():
            raise StoreError(f"no stored template called {name!r} (see 'deskline template list')",
                             Location(str(self.root), 0, 0, name))
        return folder

    # -- changing -----------------------------------------------------------------------------------
    def _check_new_name(self, name: str) -> None:
        if not _NAME.match(name):
            raise StoreError(f"{name!r} is not a usable template name: use 1-64 letters, digits, '_', '.' or '-', "
                             "starting with a letter or digit", Location("", 0, 0, name))
        if (self.root / name).exists():
            raise StoreError(f"a template called {name!r} is already stored", Location(str(self.root), 0, 0, name))
        count = len(self._folders())
        if count >= MAX_TEMPLATES:
            raise StoreError(f"the store already holds {count} custom templates; the limit is {MAX_TEMPLATES}. "
                             "Delete one first ('deskline template delete NAME')", Location(str(self.root), 0, 0, ""))

    def _commit(self, name: str, files: dict[str, bytes]) -> Path:
        """Write *files* into a new folder *name* atomically (a located StoreError when the disk refuses)."""
        try:
            return self._write_folder(name, files)
        except OSError as exc:
            raise StoreError(f"cannot store the template: {exc.strerror or exc}",
                             Location(str(exc.filename or self.root), 0, 0, "")) from None

    def _write_folder(self, name: str, files: dict[str, bytes]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self._clean_leftovers()
        tmp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=self.root))
        try:
            for fname, data in files.items():
                with open(tmp / fname, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            final = self.root / name
            os.rename(tmp, final)  # fails if the name appeared meanwhile: never overwrites
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(self.root)
        return final

    def _clean_leftovers(self) -> None:
        for p in self.root.iterdir():
            if p.is_dir() and p.name.startswith((_TEMP_PREFIX, _TRASH_PREFIX)):
                shutil.rmtree(p, ignore_errors=True)

    def import_path(self, source: str | os.PathLike[str], name: str | None = None) -> ImportResult:
        """Import a template XML file, or a folder holding one XML file and its logo."""
        src = Path(source)
        if src.is_dir():
            xmls = sorted(p for p in src.iterdir() if p.suffix.lower() == ".xml" and p.is_file())
            if len(xmls) != 1:
                raise StoreError(f"the folder must hold exactly one .xml template; found {len(xmls)}",
                                 Location(str(src), 0, 0, ""))
            xml = xmls[0]
        elif src.is_file():
            xml = src
        else:
            raise StoreError("no such file or folder", Location(str(src), 0, 0, ""))
        template = load_template(xml)  # raises TemplateError (located) for broken XML
        if template.document.elements[0].tag != "Information":
            raise StoreError("not a template: the root element must be <Information>", template.where(0))
        stored_name = name or template.general.key or xml.stem
        self._check_new_name(stored_name)
        findings = lint_template(template)
        files = {TEMPLATE_FILE: template.to_bytes()}
        logo_name = template.general.logo
        if logo_name:
            logo_path = xml.parent / logo_name
            info, logo_findings = inspect_logo(logo_path, template.where(0, "Logo"))
            findings += logo_findings
            bad = [f for f in logo_findings if f.severity is Severity.ERROR]
            if bad:
                raise StoreError(f"logo refused: {bad[0].message}", bad[0].location)
            if info is not None:
                if Path(logo_name).name != logo_name:
                    raise StoreError("Logo must be a file name beside the template, not a path",
                                     template.where(0, "Logo"))
                files[logo_name] = logo_path.read_bytes()
        folder = self._commit(stored_name, files)
        return ImportResult(self._describe(folder), findings)

    def save(self, name: str, template: Template) -> None:
        """Write an edited template back (atomic file replace)."""
        atomic_write(self._existing(name) / TEMPLATE_FILE, template.to_bytes())

    def export(self, name: str, dest: str | os.PathLike[str]) -> list[Path]:
        """Copy a stored template (XML as ``<name>.xml`` and its logo) into folder *dest*.

        Secrets stay home: the ``Value`` of a password-type custom field, or of one whose name says
        secret (``client_secret``, ``api_key``, like the integration's redaction), is left out of the
        exported XML (the only change made to it).
        """
        from engine.http.redaction import sensitive_name

        folder = self._existing(name)
        out_dir = Path(dest)
        template = load_template(folder / TEMPLATE_FILE)
        for f in template.custom_fields:
            if ((f.secret or sensitive_name(f.name) or sensitive_name(f.key or ""))
                    and template.document.nodes[f.ref].get("Value") is not None):
                template = template.without_attribute(f.ref, "Value")
        plan: dict[Path, bytes | Path] = {out_dir / f"{name}.xml": template.to_bytes()}
        for p in folder.iterdir():
            if p.is_file() and p.name != TEMPLATE_FILE and not p.name.startswith("."):
                plan[out_dir / p.name] = p
        clash = [str(p) for p in plan if p.exists()]
        if clash:
            raise StoreError(f"refusing to overwrite {', '.join(clash)}", Location(str(out_dir), 0, 0, ""))
        if out_dir.exists() and not out_dir.is_dir():
            raise StoreError("the destination is a file, not a folder", Location(str(out_dir), 0, 0, ""))
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for target, source in plan.items():
                atomic_write(target, source if isinstance(source, bytes) else source.read_bytes())
        except OSError as exc:
            where = exc.filename or out_dir
            raise StoreError(f"cannot write the export: {exc.strerror or exc}", Location(str(where), 0, 0, "")) from None
        return list(plan)

    def duplicate(self, name: str, new_name: str) -> StoredTemplate:
        """Copy a stored template; the copy gets ``Key=new_name`` and ``Name="<Name> (copy)"``."""
        folder = self._existing(name)
        self._check_new_name(new_name)
        template = load_template(folder / TEMPLATE_FILE)
        template = template.with_attribute(0, "Key", new_name)
        template = template.with_attribute(0, "Name", f"{template.general.name} (copy)")
        files = {TEMPLATE_FILE: template.to_bytes()}
        for p in folder.iterdir():
            if p.is_file() and p.name != TEMPLATE_FILE and not p.name.startswith("."):
                files[p.name] = p.read_bytes()
        return self._describe(self._commit(new_name, files))

    def delete(self, name: str) -> None:
        folder = self._existing(name)
        trash = self.root / f"{_TRASH_PREFIX}{name}-{os.getpid()}"
        try:
            os.rename(folder, trash)  # gone from the store at once; the files follow
        except OSError as exc:
            raise StoreError(f"cannot delete the template: {exc.strerror or exc}",
                             Location(str(folder), 0, 0, "")) from None
        shutil.rmtree(trash, ignore_errors=True)
        fsync_dir(self.root)
