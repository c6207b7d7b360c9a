"""Every function on the fixtures gives the bytes the command line gives
(`--format json`), and the same exit code."""

import json
import shutil

import pytest

import qingshan
from conftest import fx

LANDCOVER_2019 = fx("landcover/clcd_2019.vrt")
LANDCOVER_2024 = fx("landcover/clcd_2024.vrt")
SERIES = [f"{y}={fx(f'landcover/series/clcd_{y}.tif')}" for y in (2020, 2021, 2022, 2023)]

# (function, keyword arguments, the same run's flags)
CASES = [
    (
        "stats",
        dict(landcover=LANDCOVER_2019, zones=fx("towns.geojson")),
        ["stats", "--landcover", LANDCOVER_2019, "--zones", fx("towns.geojson")],
    ),
    (
        "stats",
        dict(landuse=fx("landuse/dltb_2024.gpkg"), class_field="DLBM", zones=fx("redlines_2019.geojson"), id_field="hx_id"),
        ["stats", "--landuse", fx("landuse/dltb_2024.gpkg"), "--class-field", "DLBM",
         "--zones", fx("redlines_2019.geojson"), "--id-field", "hx_id"],
    ),
    (
        "change",
        dict(before=LANDCOVER_2019, after=LANDCOVER_2024, zones=fx("towns.geojson")),
        ["change", "--before", LANDCOVER_2019, "--after", LANDCOVER_2024, "--zones", fx("towns.geojson")],
    ),
    (
        "change",
        dict(before_landuse=fx("landuse/dltb_2019.gpkg"), after_landuse=fx("landuse/dltb_2024.gpkg"),
             class_field="DLBM", zones=fx("towns.geojson")),
        ["change", "--before-landuse", fx("landuse/dltb_2019.gpkg"), "--after-landuse",
         fx("landuse/dltb_2024.gpkg"), "--class-field", "DLBM", "--zones", fx("towns.geojson")],
    ),
    (
        "values",
        dict(raster=fx("ndvi/ndvi_2024.tif"), zones=fx("redlines_2019.geojson"), id_field="hx_id", stats="median,mean,q90"),
        ["values", "--raster", fx("ndvi/ndvi_2024.tif"), "--zones", fx("redlines_2019.geojson"),
         "--id-field", "hx_id", "--stats", "median,mean,q90"],
    ),
    (
        "series",
        dict(landcover=[f"2019={LANDCOVER_2019}", *SERIES, f"2024={LANDCOVER_2024}"], zones=fx("towns.geojson")),
        ["series", *sum([["--landcover", s] for s in [f"2019={LANDCOVER_2019}", *SERIES, f"2024={LANDCOVER_2024}"]], []),
         "--zones", fx("towns.geojson")],
    ),
    (
        "slope",
        dict(dem=fx("dem"), zones=fx("towns.geojson"), landcover=LANDCOVER_2019, cropland=fx("dltb.gpkg"), class_field="DLBM"),
        ["slope", "--dem", fx("dem"), "--zones", fx("towns.geojson"), "--landcover", LANDCOVER_2019,
         "--cropland", fx("dltb.gpkg"), "--class-field", "DLBM"],
    ),
    (
        "redline_diff",
        dict(old=fx("redlines_2019.geojson"), new=fx("redlines_2024.gpkg"), id_field="hx_id", towns=fx("towns.geojson")),
        ["redline", "diff", fx("redlines_2019.geojson"), fx("redlines_2024.gpkg"), "--id-field", "hx_id",
         "--towns", fx("towns.geojson")],
    ),
    (
        "redline_check",
        dict(redlines=fx("redlines_2019.geojson"), id_field="hx_id", before=LANDCOVER_2019, after=LANDCOVER_2024),
        ["redline", "check", "--redlines", fx("redlines_2019.geojson"), "--id-field", "hx_id",
         "--before", LANDCOVER_2019, "--after", LANDCOVER_2024],
    ),
]


@pytest.mark.parametrize("name,kwargs,args", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_function_gives_the_command_lines_bytes(name, kwargs, args, cli):
    quiet = [] if name == "redline_diff" else ["-q"]  # diff draws no bar
    code, out, err = cli(*args, *quiet)
    assert code in (0, 3), err
    r = getattr(qingshan, name)(**kwargs)
    assert r.exit_code == code
    assert r.json == out
    assert r == json.loads(out)
    assert r.passed == (code == 0)


def test_audit_gives_the_bundles_audit_json(cli, tmp_path):
    code, _, err = cli("audit", "-q", "--config", fx("audit.toml"), "--out", str(tmp_path / "cli"))
    assert code in (0, 3), err
    r = qingshan.audit(config=fx("audit.toml"), out=tmp_path / "py")
    assert r.exit_code == code
    assert r.json == (tmp_path / "cli" / "audit.json").read_bytes()
    assert r.json == (tmp_path / "py" / "audit.json").read_bytes()
    assert (tmp_path / "py" / "report.html").is_file()
    if code == 3:
        assert not r.passed and any(m.startswith("audit: missed") for m in r.messages)
        with pytest.raises(qingshan.CheckFailed) as e:
            qingshan.audit(config=fx("audit.toml"), out=tmp_path / "py2", check=True)
        assert e.value.result.exit_code == 3 and "missed" in str(e.value)


def test_files_named_by_flags_are_the_command_lines(cli, tmp_path):
    """output= in any format and change_list= are written as the command
    line writes them; the result is JSON all the same."""
    a, b = fx("landuse/dltb_2019.gpkg"), fx("landuse/dltb_2024.gpkg")
    code, _, err = cli("change", "-q", "--before-landuse", a, "--after-landuse", b, "--class-field", "DLBM",
                       "--zones", fx("towns.geojson"), "-o", str(tmp_path / "cli.csv"),
                       "--change-list", str(tmp_path / "cli_list.csv"))
    assert code == 0, err
    r = qingshan.change(before_landuse=a, after_landuse=b, class_field="DLBM", zones=fx("towns.geojson"),
                        output=tmp_path / "py.csv", change_list=tmp_path / "py_list.csv")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert (tmp_path / "py_list.csv").read_bytes() == (tmp_path / "cli_list.csv").read_bytes()
    assert r["schema"] == "qingshan.change/1"


def test_a_red_line_that_shrank_fails_the_check(tmp_path):
    """The 2024 red lines lose area against 2019 in the fixtures (exit 3):
    a result with passed False, or CheckFailed with check=True."""
    kw = dict(old=fx("redlines_2019.geojson"), new=fx("redlines_2024.gpkg"), id_field="hx_id", strict=True)
    r = qingshan.redline_diff(**kw)
    if r.exit_code == 0:
        pytest.skip("the fixtures' red lines lost no area")
    assert not r.passed and r.messages
    with pytest.raises(qingshan.CheckFailed):
        qingshan.redline_diff(check=True, **kw)


def test_batch_runs_and_merges_shards_into_the_single_runs_bytes(cli, tmp_path):
    tiles = fx("landcover/clcd_2019")
    code, _, err = cli("batch", "-q", "--tiles", tiles, "--zones", fx("towns.geojson"), "--out-dir", str(tmp_path / "one"))
    assert code == 0, err
    single = (tmp_path / "one" / "stats.json").read_bytes()
    r = qingshan.batch.run(tiles=tiles, zones=fx("towns.geojson"), out_dir=tmp_path / "py")
    assert r.json == single
    dirs = [qingshan.batch.shard(i, 3, tiles=tiles, zones=fx("towns.geojson"), out_dir=tmp_path / f"s{i}") for i in range(3)]
    merged = qingshan.batch.merge(dirs, output=tmp_path / "merged.json")
    assert merged.json == single
    assert (tmp_path / "merged.json").read_bytes() == single
    shutil.rmtree(tmp_path / "s1")
    with pytest.raises(qingshan.InputError, match="s1"):
        qingshan.batch.merge(dirs)
