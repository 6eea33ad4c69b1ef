"""`accel.build.artifacts.write_build`: a reused build directory holds one build, never a mix."""

import json

from accel.build.artifacts import MANIFEST_NAME, write_build


def _build(files: dict[str, bytes]) -> dict[str, bytes]:
    listed = {name: {"bytes": len(data)} for name, data in files.items()}
    manifest = {"generator": "accelgen", "files": listed}
    return {**files, MANIFEST_NAME: json.dumps(manifest).encode()}


def test_an_earlier_builds_files_that_the_new_one_lacks_are_removed(tmp_path):
    write_build(tmp_path, _build({"soc.v": b"soc", "picorv32.v": b"cpu", "accelgen.h": b"h1"}))
    write_build(tmp_path, _build({"accelerator.v": b"acc", "accelgen.h": b"h2"}))
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["accelerator.v", "accelgen.h", MANIFEST_NAME]
    assert (tmp_path / "accelgen.h").read_bytes() == b"h2"


def test_files_no_manifest_names_are_kept(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    write_build(tmp_path, _build({"soc.v": b"soc"}))
    write_build(tmp_path, _build({"accelerator.v": b"acc"}))
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "soc.v").exists()


def test_a_manifest_that_is_not_ours_or_names_paths_removes_nothing(tmp_path):
    outside = tmp_path / "outside.v"
    outside.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / "soc.v").write_text("keep")
    (out / MANIFEST_NAME).write_text(json.dumps({"generator": "other", "files": {"soc.v": {}}}))
    write_build(out, {"accelerator.v": b"acc"})
    assert (out / "soc.v").exists()
    (out / MANIFEST_NAME).write_text(json.dumps(
        {"generator": "accelgen", "files": {"../outside.v": {}, ".": {}, "sub/x.v": {}}}))
    write_build(out, {"accelerator.v": b"acc"})
    assert outside.read_text() == "keep"
    (out / MANIFEST_NAME).write_bytes(b"\xff not json")
    write_build(out, {"accelerator.v": b"acc"})
    assert (out / "soc.v").exists()
