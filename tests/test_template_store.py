"""The template store: import/export/duplicate/delete/list, the 10-template limit, logos, atomic writes."""

from __future__ import annotations

import os
import shutil

import pytest
from PIL import Image

from engine.template import load_template
from engine.template.store import MAX_TEMPLATES, TEMPLATE_FILE, StoreError, TemplateStore, data_dir
from tests.conftest import DATA

TEMPLATES = DATA / "templates"
FULL = TEMPLATES / "full-oauth2.xml"


@pytest.fixture
def store():
    return TemplateStore()


def folder_with(tmp_path, name="pkg", logo: tuple[str, bytes] | None = ("logo.png", None)):
    d = tmp_path / name
    d.mkdir()
    shutil.copy(FULL, d / "desk.xml")
    if logo:
        fname, data = logo
        (d / fname).write_bytes(data if data is not None else (TEMPLATES / "logo.png").read_bytes())
    return d


def test_store_lives_in_the_data_dir(tmp_path, monkeypatch):
    assert data_dir() == tmp_path / "data"  # DESKLINE_DATA_DIR from conftest
    assert TemplateStore().root == tmp_path / "data" / "templates"
    monkeypatch.delenv("DESKLINE_DATA_DIR")
    assert "deskline" in str(data_dir())


def test_import_folder_with_logo_then_list(store, tmp_path):
    result = store.import_path(folder_with(tmp_path))
    assert result.stored.name == "full_desk"  # the template's Key
    assert sorted(p.name for p in result.stored.folder.iterdir()) == ["logo.png", TEMPLATE_FILE]
    assert (result.stored.folder / TEMPLATE_FILE).read_bytes() == FULL.read_bytes()
    [item] = store.list()
    assert (item.name, item.title, item.key, item.auth_type) == ("full_desk", "Full Desk", "full_desk", "oauth2")
    assert (item.logo.format, item.logo.width, item.logo.height) == ("PNG", 150, 150)


def test_import_file_under_another_name(store):
    result = store.import_path(TEMPLATES / "minimal-basic.xml", name="mini")
    assert store.names() == ["mini"] and result.stored.logo is None


def test_eleventh_template_is_refused_with_the_limit_in_the_message(store):
    for i in range(MAX_TEMPLATES):
        store.import_path(TEMPLATES / "minimal-basic.xml", name=f"t{i}")
    with pytest.raises(StoreError) as exc:
        store.import_path(TEMPLATES / "minimal-basic.xml", name="t10")
    assert "limit is 10" in exc.value.message
    assert len(store.names()) == MAX_TEMPLATES
    with pytest.raises(StoreError):
        store.duplicate("t0", "t11")


def test_name_taken_and_bad_names_refused(store):
    store.import_path(TEMPLATES / "minimal-basic.xml", name="a")
    with pytest.raises(StoreError, match="already stored"):
        store.import_path(TEMPLATES / "minimal-basic.xml", name="a")
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(StoreError):
            store.import_path(TEMPLATES / "minimal-basic.xml", name=bad or "/")


def test_broken_xml_is_refused_with_its_location(store, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Information>\n<Scenarios></Information>")
    with pytest.raises(Exception) as exc:
        store.import_path(bad)
    assert f"{bad}:2" in str(exc.value)
    assert store.names() == []


def test_not_a_template_refused(store):
    with pytest.raises(StoreError, match="root element"):
        store.import_path(TEMPLATES / "official-fragments.xml")


def test_logo_checked_by_content(store, tmp_path):
    fake = folder_with(tmp_path, "fake", ("logo.png", b"GIF89a not a png at all"))
    with pytest.raises(StoreError, match="logo refused"):
        store.import_path(fake)
    gif = tmp_path / "x.gif"
    Image.new("RGB", (150, 150)).save(gif, format="GIF")
    with pytest.raises(StoreError, match="GIF"):
        store.import_path(folder_with(tmp_path, "gif", ("logo.png", gif.read_bytes())))
    big = tmp_path / "big.png"
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(big)
    assert big.stat().st_size >= 500 * 1024
    with pytest.raises(StoreError, match="500 KB"):
        store.import_path(folder_with(tmp_path, "big", ("logo.png", big.read_bytes())))
    assert store.names() == []


def test_logo_size_other_than_150_is_a_warning_and_jpeg_is_fine(store, tmp_path):
    jpg = tmp_path / "l.jpg"
    Image.new("RGB", (64, 32)).save(jpg, format="JPEG")
    src = folder_with(tmp_path, "jpg", ("logo.jpg", jpg.read_bytes()))
    (src / "desk.xml").write_bytes(FULL.read_bytes().replace(b'Logo="logo.png"', b'Logo="logo.jpg"'))
    result = store.import_path(src)
    warn = [f for f in result.findings if f.code == "logo-size"]
    assert warn and "64x32" in warn[0].message and warn[0].severity.value == "warning"
    assert result.stored.logo.format == "JPEG"


def test_missing_logo_is_a_warning(store, tmp_path):
    result = store.import_path(folder_with(tmp_path, logo=None))
    assert any(f.code == "logo" and "not found" in f.message for f in result.findings)


def test_export_duplicate_delete(store, tmp_path):
    store.import_path(folder_with(tmp_path))
    out = tmp_path / "out"
    written = store.export("full_desk", out)
    assert sorted(p.name for p in written) == ["full_desk.xml", "logo.png"]
    assert (out / "full_desk.xml").read_bytes() == FULL.read_bytes()
    with pytest.raises(StoreError, match="overwrite"):
        store.export("full_desk", out)
    copy = store.duplicate("full_desk", "second")
    assert (copy.key, copy.title) == ("second", "Full Desk (copy)")
    original = FULL.read_bytes()
    duplicated = (copy.folder / TEMPLATE_FILE).read_bytes()
    assert duplicated.replace(b'Key="second"', b'Key="full_desk"').replace(b"Full Desk (copy)", b"Full Desk") == original
    store.delete("full_desk")
    assert store.names() == ["second"]
    with pytest.raises(StoreError, match="no stored template"):
        store.delete("full_desk")


def test_save_writes_an_edited_template(store):
    store.import_path(TEMPLATES / "minimal-basic.xml", name="m")
    t = store.load("m")
    store.save("m", t.with_attribute(0, "Version", "2.0"))
    assert store.load("m").general.version == "2.0"


def test_a_crash_while_importing_leaves_no_half_template(store, monkeypatch):
    real_rename = os.rename

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(StoreError, match="cannot store the template: power cut"):
        store.import_path(TEMPLATES / "minimal-basic.xml", name="m")
    monkeypatch.setattr(os, "rename", real_rename)
    assert store.names() == [] and store.list() == []
    assert [p for p in store.root.iterdir()] == []  # the temp folder was removed


def test_leftover_temp_folders_are_ignored_and_cleaned(store):
    store.root.mkdir(parents=True)
    half = store.root / ".tmp-abc"
    half.mkdir()
    (half / TEMPLATE_FILE).write_text("<Information")
    assert store.names() == []
    store.import_path(TEMPLATES / "minimal-basic.xml", name="m")
    assert not half.exists()


def test_atomic_save_keeps_the_old_file_when_writing_fails(store, monkeypatch):
    store.import_path(TEMPLATES / "minimal-basic.xml", name="m")
    before = store.path("m").read_bytes()
    t = load_template(store.path("m")).with_attribute(0, "Version", "3")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save("m", t)
    assert store.path("m").read_bytes() == before
    assert [p.name for p in store.path("m").parent.iterdir()] == [TEMPLATE_FILE]


def test_export_leaves_password_values_out(store, tmp_path):
    src = tmp_path / "s.xml"
    src.write_bytes(FULL.read_bytes().replace(b'Key="client_secret" />', b'Key="client_secret" Value="hunter2" />'))
    store.import_path(src, name="s")
    assert b"hunter2" in store.path("s").read_bytes()  # the user's own store keeps it
    [xml] = store.export("s", tmp_path / "out")
    exported = xml.read_bytes()
    assert b"hunter2" not in exported
    assert exported == FULL.read_bytes()  # nothing else changed
