"""What the Python front end adds: errors as exceptions naming the file,
GeoDataFrame zones, tidy frames, progress, the released interpreter lock,
and coexistence with rasterio's and pyogrio's own GDAL."""

import json
import subprocess
import sys
import threading

import pytest

import qingshan
from conftest import ROOT, fx

LANDCOVER = fx("landcover/clcd_2019.vrt")
TOWNS = fx("towns.geojson")


def test_bad_input_raises_with_the_file_named(tmp_path):
    with pytest.raises(qingshan.InputError, match="no_such.tif"):
        qingshan.stats(landcover=fx("no_such.tif"), zones=TOWNS)
    bad = tmp_path / "zones.geojson"
    bad.write_text("{not json")
    with pytest.raises(qingshan.InputError, match="zones.geojson"):
        qingshan.stats(landcover=LANDCOVER, zones=bad)
    # An output onto an input is refused before anything is written.
    with pytest.raises(qingshan.Error, match="towns.geojson"):
        qingshan.stats(landcover=LANDCOVER, zones=TOWNS, output=TOWNS)
    with pytest.raises(qingshan.OutputError, match="no_dir"):
        qingshan.stats(landcover=LANDCOVER, zones=TOWNS, output=tmp_path / "no_dir" / "x.json")
    assert issubclass(qingshan.InputError, qingshan.Error)
    assert issubclass(qingshan.Error, Exception)


def test_bad_arguments_raise_usage_errors():
    with pytest.raises(qingshan.UsageError, match="did you mean 'zones'"):
        qingshan.stats(landcover=LANDCOVER, zone=TOWNS)
    with pytest.raises(qingshan.UsageError, match="zones"):
        qingshan.stats(landcover=LANDCOVER)
    with pytest.raises(qingshan.UsageError, match="switch"):
        qingshan.redline_diff(old=TOWNS, new=TOWNS, strict="yes")
    with pytest.raises(qingshan.UsageError, match="takes one value"):
        qingshan.stats(landcover=LANDCOVER, zones=[TOWNS, TOWNS])
    with pytest.raises(qingshan.UsageError, match="area"):
        qingshan.stats(landcover=LANDCOVER, zones=TOWNS, area="flat")


def test_warnings_are_python_warnings():
    with pytest.warns(qingshan.QingshanWarning, match="--id-field") as caught:
        r = qingshan.redline_diff(old=fx("redlines_2019.geojson"), new=fx("redlines_2019.geojson"))
    assert r.warnings and [str(w.message) for w in caught] == r.warnings


def test_a_geodataframe_of_zones_gives_the_files_areas():
    gpd = pytest.importorskip("geopandas")
    frame = gpd.read_file(TOWNS)
    from_file = qingshan.stats(landcover=LANDCOVER, zones=TOWNS, id_field="code")
    from_frame = qingshan.stats(landcover=LANDCOVER, zones=frame, id_field="code")
    strip = lambda d: [{k: v for k, v in z.items() if k != "attributes"} for z in d["zones"]]  # noqa: E731
    assert strip(from_frame) == strip(from_file)
    # Without id_field the frame's index is the id; shapely geometries
    # with crs= work the same.
    by_index = qingshan.stats(landcover=LANDCOVER, zones=frame)
    assert [z["id"] for z in by_index["zones"]] == ["0", "1"]
    shapes = qingshan.stats(landcover=LANDCOVER, zones=list(frame.geometry), crs=frame.crs)
    assert [z["classes"] for z in shapes["zones"]] == [z["classes"] for z in from_file["zones"]]
    with pytest.raises(qingshan.UsageError, match="CRS"):
        qingshan.stats(landcover=LANDCOVER, zones=list(frame.geometry))
    # Z values are dropped: the same zones in 3D give the same areas.
    import shapely

    in_3d = frame.set_geometry(shapely.force_3d(frame.geometry.values, 100.0))
    assert strip(qingshan.stats(landcover=LANDCOVER, zones=in_3d, id_field="code")) == strip(from_file)


def test_tidy_frames_hold_the_documents_areas_in_three_units():
    r = qingshan.stats(landcover=LANDCOVER, zones=TOWNS)
    df = r.to_pandas()
    assert list(df.columns) == ["zone", "zone_name", "class", "area_m2", "area_ha", "area_mu"]
    for z in r["zones"]:
        rows = df[df.zone == z["id"]]
        assert dict(zip(rows["class"].astype(str), rows.area_m2)) == z["classes"]
    assert (df.area_ha * 10_000 - df.area_m2).abs().max() < 1e-6
    assert (df.area_mu * 2000 / 3 - df.area_m2).abs().max() < 1e-6
    zones = r.to_pandas("zones")
    assert list(zones.forest_cover) == [z["forest_cover"] for z in r["zones"]]
    ch = qingshan.change(before=LANDCOVER, after=fx("landcover/clcd_2024.vrt"), zones=TOWNS).to_pandas()
    assert {"from", "to", "area_m2"} <= set(ch.columns)
    g = r.to_geopandas()
    assert g.crs.to_epsg() == 4545
    # The zone geometries are the ones measured: their planar areas are
    # within 0.1 % of the ellipsoidal zone areas (a Gauss-Kruger zone).
    for (_, row), z in zip(g.iterrows(), r["zones"]):
        assert abs(row.geometry.area / z["zone_area_m2"] - 1) < 1e-3
    assert g.loc[0, "classes_2"] == r["zones"][0]["classes"]["2"]


def test_progress_reaches_a_callable_and_a_tqdm_bar():
    seen = []
    qingshan.stats(landcover=LANDCOVER, zones=TOWNS, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    tqdm = pytest.importorskip("tqdm")
    bar = tqdm.tqdm(disable=False, file=open("/dev/null", "w"))
    qingshan.stats(landcover=LANDCOVER, zones=TOWNS, progress=bar)
    assert bar.n == bar.total == seen[-1][1]

    def boom(done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        qingshan.stats(landcover=LANDCOVER, zones=TOWNS, progress=boom)


def test_the_interpreter_lock_is_released_while_a_command_runs(tmp_path):
    """A Python thread counts while the command runs between its first and
    last progress report; a command holding the lock would starve it."""
    count = [0]
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1

    marks = []
    t = threading.Thread(target=counter)
    t.start()
    try:
        qingshan.stats(
            landcover=_fine_landcover(tmp_path, 10.0),
            zones=fx("redlines_2019.geojson"),
            threads=1,
            progress=lambda done, total: marks.append(count[0]),
        )
    finally:
        stop.set()
        t.join()
    assert len(marks) >= 2
    assert marks[-1] - marks[0] > 1000, marks


def test_coexists_with_rasterio_and_pyogrio_in_one_process():
    """rasterio and pyogrio wheels bring their own GDAL; each library reads
    with its own, in either import order."""
    script = f"""
import json, sys
order = sys.argv[1].split(",")
mods = {{}}
for name in order:
    mods[name] = __import__(name)
rasterio, pyogrio, qingshan = mods["rasterio"], mods["pyogrio"], mods["qingshan"]
with rasterio.open({fx('ndvi/ndvi_2024.tif')!r}) as ds:
    band = ds.read(1)
    rio = (ds.crs.to_epsg(), band.shape)
towns = pyogrio.read_dataframe({TOWNS!r})
r = qingshan.stats(landcover={LANDCOVER!r}, zones={TOWNS!r})
with rasterio.open({fx('ndvi/ndvi_2024.tif')!r}) as ds:
    again = ds.read(1)
print(json.dumps([rio[0], list(rio[1]), len(towns), len(r["zones"]), bool((band == again).all()),
                  sorted(towns["name"]) == sorted(z["name"] for z in r["zones"])]))
"""
    for order in ("rasterio,pyogrio,qingshan", "qingshan,pyogrio,rasterio"):
        p = subprocess.run([sys.executable, "-c", script, order], capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 0, p.stderr
        epsg, shape, towns, zones, same, names = json.loads(p.stdout)
        assert epsg == 4545 and shape[0] > 0 and towns == zones == 2 and same and names, p.stdout


def test_docstrings_and_stubs_name_every_flag():
    spec = json.loads(qingshan._qingshan.spec())
    stub = (ROOT / "crates/qingshan-py/python/qingshan/__init__.pyi").read_text()
    for name in ["stats", "change", "values", "series", "slope", "redline_diff", "redline_check", "audit"]:
        fn = getattr(qingshan, name)
        assert fn.__doc__.startswith(spec[name]["about"])
        start = stub.index(f"def {name}(")
        sig = stub[start : stub.index(") -> Result", start)]
        for a in spec[name]["args"]:
            if a["id"] == "quiet":
                continue
            assert f"{a['id']}:" in sig, f"{name}: {a['id']} missing from the stub"
            assert a["id"] in fn.__doc__


def test_the_notebook_example_draws_forest_cover(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("QINGSHAN_FIXTURES", str(ROOT / "fixtures"))
    monkeypatch.setenv("QINGSHAN_FIGURE", str(tmp_path / "fc.png"))
    nb = json.loads((ROOT / "examples/python/forest_cover.ipynb").read_text())
    ns: dict = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), ns)
    assert (tmp_path / "fc.png").stat().st_size > 10_000
    assert 0 < ns["cover"][0] < 100


def test_the_dask_example_reproduces_a_single_runs_bytes(cli, tmp_path):
    pytest.importorskip("distributed")
    tiles, towns = fx("landcover/clcd_2019"), TOWNS
    code, _, err = cli("batch", "-q", "--tiles", tiles, "--zones", towns, "--out-dir", str(tmp_path / "one"))
    assert code == 0, err
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/dask_batch.py"), "--tiles", tiles, "--zones", towns,
         "--out-dir", str(tmp_path / "dask"), "--workers", "2", "--shards", "4"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert p.returncode == 0, p.stderr
    assert "from 2 worker processes" in p.stdout
    assert (tmp_path / "dask" / "stats.json").read_bytes() == (tmp_path / "one" / "stats.json").read_bytes()


def test_positional_arguments_keep_their_meaning_in_any_keyword_order():
    old, new = fx("redlines_2019.geojson"), fx("redlines_2024.gpkg")
    a = qingshan.redline_diff(old=old, new=new, id_field="hx_id")
    b = qingshan.redline_diff(new=new, id_field="hx_id", old=old)
    assert a.json == b.json


def test_two_frames_in_one_command():
    gpd = pytest.importorskip("geopandas")
    old = gpd.read_file(fx("redlines_2019.geojson"))
    new = gpd.read_file(fx("redlines_2024.gpkg")).to_crs(old.crs)
    by_file = qingshan.redline_diff(old=fx("redlines_2019.geojson"), new=fx("redlines_2024.gpkg"), id_field="hx_id")
    by_frame = qingshan.redline_diff(old=old, new=new, id_field="hx_id")
    for k in ("old_total_m2", "new_total_m2", "lost_m2", "gained_m2"):
        assert by_frame[k] == pytest.approx(by_file[k], rel=1e-9), k
    # Without id_field both frames are matched by their index.
    by_index = qingshan.redline_diff(old=old, new=new)
    assert by_index.exit_code in (0, 3)


def test_errors_and_results_survive_pickling():
    """Dask sends a failed task's exception back to the client."""
    import pickle

    try:
        qingshan.stats(landcover=fx("no_such.tif"), zones=TOWNS)
    except qingshan.InputError as e:
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is qingshan.InputError and str(back) == str(e)
    r = qingshan.stats(landcover=LANDCOVER, zones=TOWNS)
    back = pickle.loads(pickle.dumps(r))
    assert back == r and back.json == r.json
    failed = qingshan.CheckFailed("missed", r)
    again = pickle.loads(pickle.dumps(failed))
    assert isinstance(again, qingshan.Error) and again.result == r


def test_every_commands_table_holds_its_numbers():
    v = qingshan.values(raster=fx("ndvi/ndvi_2024.tif"), zones=TOWNS, stats="mean,median").to_pandas()
    assert {"mean", "median", "valid_area_m2"} <= set(v.columns) and "area_mu" not in v.columns
    s = qingshan.series(
        landcover=[f"2019={LANDCOVER}", f"2024={fx('landcover/clcd_2024.vrt')}"],
        raster=[f"2019={fx('ndvi/ndvi_2019.tif')}", f"2024={fx('ndvi/ndvi_2024.tif')}"],
        zones=TOWNS,
    )
    df = s.to_pandas()
    assert len(df) == 4 and set(df.date) == {"2019", "2024"}
    row = df[(df.zone == "jinsuoguan") & (df.date == "2024")].iloc[0]
    z = next(z for z in s["zones"] if z["id"] == "jinsuoguan")
    assert row.forest_cover == z["landcover"]["2024"]["forest_cover"]
    assert row.value_mean == z["values"]["2024"]["stats"]["mean"]
    sl = qingshan.slope(dem=fx("dem"), zones=TOWNS).to_pandas()
    assert "mean_slope_deg" in sl.columns and len(sl) == 2


def test_geometries_given_as_a_list_draw_with_their_crs():
    gpd = pytest.importorskip("geopandas")
    frame = gpd.read_file(TOWNS)
    r = qingshan.stats(landcover=LANDCOVER, zones=list(frame.geometry), crs=frame.crs)
    g = r.to_geopandas()
    assert g.crs == frame.crs and g.geometry.area.tolist() == pytest.approx(frame.geometry.area.tolist())


def test_a_secondary_output_to_standard_output_is_refused_in_process():
    with pytest.raises(qingshan.Error, match="give a file"):
        qingshan.redline_diff(old=fx("redlines_2019.geojson"), new=fx("redlines_2024.gpkg"), id_field="hx_id",
                              lost_geometry="-")


def _fine_landcover(tmp_path, cell: float = 0.5) -> str:
    """The 2019 land cover resampled to `cell` m cells (a VRT): at 0.5 m, a
    run long enough to stop in the middle."""
    vrt = tmp_path / f"fine_{cell}.vrt"
    subprocess.run(["gdal_translate", "-q", "-of", "VRT", "-tr", str(cell), str(cell), LANDCOVER, str(vrt)], check=True)
    return str(vrt)


def test_an_exception_in_the_progress_callback_stops_the_run_and_writes_nothing(tmp_path):
    fine = _fine_landcover(tmp_path)
    calls = []

    def stop(done, total):
        calls.append(done)
        if done > 0:
            raise ValueError("enough")

    out = tmp_path / "out.csv"
    with pytest.raises(ValueError, match="enough"):
        qingshan.stats(landcover=fine, zones=TOWNS, output=out, progress=stop, threads=1)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary file was left"


def test_ctrl_c_stops_a_run_and_writes_nothing(tmp_path):
    import signal

    fine = _fine_landcover(tmp_path)
    out, started = tmp_path / "out.csv", tmp_path / "started"
    script = f"""
import pathlib, qingshan
def progress(done, total):
    pathlib.Path({str(started)!r}).touch()
qingshan.stats(landcover={fine!r}, zones={TOWNS!r}, output={str(out)!r}, progress=progress, threads=1)
"""
    p = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if started.exists() or p.poll() is not None:
            break
        threading.Event().wait(0.05)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    assert p.returncode != 0 and "KeyboardInterrupt" in err, err
    assert not out.exists()


def test_zones_of_the_wrong_kind_are_refused_clearly():
    gpd = pytest.importorskip("geopandas")
    for bad in (5, {"a": 1}, b"towns"):
        with pytest.raises(qingshan.UsageError, match="zones= takes a path"):
            qingshan.stats(landcover=LANDCOVER, zones=bad)
    frame = gpd.read_file(TOWNS)
    with pytest.raises(qingshan.UsageError, match="feature ids"):
        qingshan.stats(landcover=LANDCOVER, zones=frame.assign(FID=["a", "b"]))
    with pytest.raises(qingshan.UsageError, match="cannot tell apart"):
        qingshan.stats(landcover=LANDCOVER, zones=frame.assign(NAME=["a", "b"]))
    with pytest.raises(qingshan.UsageError, match="to_crs"):
        qingshan.stats(landcover=LANDCOVER, zones=frame, crs="EPSG:4326")
    with pytest.raises(qingshan.UsageError, match="takes one value"):
        qingshan.redline_diff(new=[TOWNS, TOWNS])
    empty = frame.copy()
    empty.loc[1, "geometry"] = None
    with pytest.raises(qingshan.UsageError, match="row 1 has no geometry"):
        qingshan.stats(landcover=LANDCOVER, zones=empty)
    # One shapely geometry is a layer of one zone.
    one = qingshan.stats(landcover=LANDCOVER, zones=frame.geometry[0], crs=frame.crs)
    assert len(one["zones"]) == 1


def test_frames_with_unusual_ids_draw_their_own_geometries():
    gpd = pytest.importorskip("geopandas")
    pd = pytest.importorskip("pandas")
    frame = gpd.read_file(TOWNS)
    frame["flag"] = [True, False]
    frame["n"] = pd.array([1, None], dtype="Int64")
    r = qingshan.stats(landcover=LANDCOVER, zones=frame, id_field="flag")
    g = r.to_geopandas()
    assert g.geometry.notna().all()
    assert g.geometry.area.tolist() == pytest.approx(frame.geometry.area.tolist())


def test_progress_of_a_many_date_series_never_goes_back():
    seen = []
    qingshan.series(
        landcover=[f"2019={LANDCOVER}", f"2024={fx('landcover/clcd_2024.vrt')}"],
        zones=TOWNS,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(seen, seen[1:])), seen
    assert seen[-1][0] == seen[-1][1]
    # Two dates: the last total counts both rasters' cells.
    first_total = seen[0][1]
    assert seen[-1][1] >= 2 * first_total * 0.9
