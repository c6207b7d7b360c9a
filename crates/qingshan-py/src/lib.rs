//! `qingshan._qingshan`: the extension module under the Python package
//! (`crates/qingshan-py/python/qingshan`).
//!
//! It runs the command line's own commands in process
//! ([`qingshan_cli::run_captured`]): the Python functions turn keyword
//! arguments into the command's flags, so both front ends take the same
//! arguments, write the same files and give the same bytes. The
//! interpreter's lock is released while a command runs; progress reaches
//! an optional Python callable, at most ten times a second.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use qingshan_cli::Failure;

create_exception!(
    qingshan,
    Error,
    PyException,
    "Every error qingshan raises: the message is the command line's one-line `error:` text."
);
create_exception!(
    qingshan,
    UsageError,
    Error,
    "The arguments were refused (the command line's exit 2): an unknown keyword, a missing input, a bad value."
);
create_exception!(
    qingshan,
    InputError,
    Error,
    "An input could not be read or was refused; the message names the file (and the feature)."
);
create_exception!(
    qingshan,
    OutputError,
    Error,
    "An output could not be written; the message names the file. Nothing partial is left."
);

/// Progress for a Python callable `progress(done_cells, total_cells)`,
/// and the run's cancellation: an exception in the callback, or an
/// interrupt (Ctrl-C) seen by the calling thread, stops the run.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    cancel: AtomicBool,
    total: AtomicU64,
    done: AtomicU64,
    last: Mutex<Option<Instant>>,
    /// The first exception the callback raised, raised after the run.
    error: Mutex<Option<PyErr>>,
}

impl PyProgress {
    fn call(&self, force: bool) {
        let Some(callback) = &self.callback else {
            return;
        };
        // The counts are read under the lock, so reports never go back.
        let (done, total) = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if !force && last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
                return;
            }
            *last = Some(Instant::now());
            (
                self.done.load(Ordering::Relaxed),
                self.total.load(Ordering::Relaxed),
            )
        };
        Python::attach(|py| {
            if let Err(e) = callback.call1(py, (done.min(total), total)) {
                self.fail(e);
            }
        });
    }
}

impl PyProgress {
    /// Stops the run with `e` (the first reason is kept).
    fn fail(&self, e: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(e);
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl qingshan::Progress for PyProgress {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// A command of several passes (a series' dates, an audit's steps)
    /// starts several times: the total grows and the count goes on, so a
    /// bar never goes back.
    fn start(&self, total_cells: u64) {
        self.total.fetch_add(total_cells, Ordering::Relaxed);
        self.call(true);
    }

    fn advance(&self, cells: u64) {
        self.done.fetch_add(cells, Ordering::Relaxed);
        self.call(false);
    }

    fn finish(&self) {
        self.done
            .store(self.total.load(Ordering::Relaxed), Ordering::Relaxed);
        self.call(true);
    }
}

fn raise(f: Failure) -> PyErr {
    match f {
        Failure::Usage(m) => UsageError::new_err(m),
        Failure::Input(m) => InputError::new_err(m),
        Failure::Output(m) => OutputError::new_err(m),
        Failure::Other(m) => Error::new_err(m),
    }
}

/// The captured result of one command.
type RunResult = (u8, Option<Py<PyBytes>>, Vec<String>, Vec<String>);

/// Runs `qingshan ARGS…` in process with the interpreter's lock released:
/// (exit code, result JSON bytes or None, warnings, messages). Raises
/// `UsageError`, `InputError`, `OutputError` or `Error`.
#[pyfunction]
#[pyo3(signature = (args, progress=None))]
fn run(py: Python<'_>, args: Vec<String>, progress: Option<Py<PyAny>>) -> PyResult<RunResult> {
    let reporter = Arc::new(PyProgress {
        callback: progress,
        cancel: AtomicBool::new(false),
        total: AtomicU64::new(0),
        done: AtomicU64::new(0),
        last: Mutex::new(None),
        error: Mutex::new(None),
    });
    let forward: Arc<dyn qingshan::Progress + Send + Sync> = reporter.clone();
    // The command runs on its own thread; this one waits, and every 50 ms
    // lets Python look at its signals, so Ctrl-C stops the run (the next
    // task does not start, nothing is written) and raises here.
    let outcome = py.detach(|| {
        std::thread::scope(|s| {
            let worker = s.spawn(|| qingshan_cli::run_captured(&args, Some(forward)));
            while !worker.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    reporter.fail(e);
                }
            }
            worker.join()
        })
    });
    let outcome = outcome.map_err(|_| Error::new_err("the command panicked"))?;
    if let Some(e) = reporter.error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    let (code, captured) = outcome.map_err(raise)?;
    let json = captured.json.map(|j| PyBytes::new(py, &j).unbind());
    Ok((code, json, captured.warnings, captured.messages))
}

/// The commands and their flags as JSON, from the command line's own
/// definitions: `{"stats": {"path": ["stats"], "about": …, "args": [{"id",
/// "long", "positional", "takes_value", "multiple", "required", "help",
/// "value_name", "default"}…]}, …}`.
#[pyfunction]
fn spec() -> String {
    let cli = qingshan_cli::cli::Cli::command();
    let mut out = serde_json::Map::new();
    let mut add = |name: String, path: Vec<&str>, cmd: &clap::Command| {
        let args: Vec<serde_json::Value> = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set() && a.get_id() != "help" && a.get_id() != "version")
            .map(|a| {
                let multiple = a.get_num_args().is_some_and(|n| n.max_values() > 1)
                    || matches!(a.get_action(), clap::ArgAction::Append);
                serde_json::json!({
                    "id": a.get_id().as_str(),
                    "long": a.get_long(),
                    "positional": a.is_positional(),
                    "takes_value": a.get_action().takes_values(),
                    "multiple": multiple,
                    "required": a.is_required_set(),
                    "help": a.get_help().map(|h| h.to_string()).unwrap_or_default(),
                    "value_name": a.get_value_names().and_then(|v| v.first()).map(|v| v.as_str()),
                    "default": a.get_default_values().first().map(|v| v.to_string_lossy().into_owned()),
                })
            })
            .collect();
        out.insert(
            name,
            serde_json::json!({
                "path": path,
                "about": cmd.get_about().map(|h| h.to_string()).unwrap_or_default(),
                "args": args,
            }),
        );
    };
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if sub.has_subcommands() {
            for inner in sub.get_subcommands() {
                let n = inner.get_name();
                add(format!("{name}_{n}"), vec![name, n], inner);
            }
        } else {
            add(name.to_string(), vec![name], sub);
        }
    }
    serde_json::Value::Object(out).to_string()
}

/// One attribute column for [`write_layer`]: (name, kind: `int`, `float`
/// or `str`, values as text, None for null).
type Column = (String, String, Vec<Option<String>>);

/// Writes geometries given as WKB with their attributes to a GeoPackage
/// (layer `zones`) through the library's vector writer
/// ([`qingshan::zones::write::write_polygons`]), for the commands to read
/// as `--zones`, `--redlines`, …; `crs_wkt` is the layer's CRS.
#[pyfunction]
fn write_layer(
    path: PathBuf,
    wkbs: Vec<Vec<u8>>,
    columns: Vec<Column>,
    crs_wkt: String,
) -> PyResult<()> {
    use qingshan::zones::write::{FieldKind, write_polygons};
    use serde_json::{Map, Number, Value};
    let fail = |what: String| InputError::new_err(format!("zones given as geometries: {what}"));
    if let Some((name, _, v)) = columns.iter().find(|c| c.2.len() != wkbs.len()) {
        return Err(fail(format!(
            "{} geometries but {} values of {name}",
            wkbs.len(),
            v.len()
        )));
    }
    qingshan::raster::setup_gdal();
    let crs = qingshan::crs_from_user_input(&crs_wkt).map_err(|e| fail(e.to_string()))?;
    let kind = |k: &str| match k {
        "int" => FieldKind::Integer,
        "float" => FieldKind::Real,
        _ => FieldKind::Text,
    };
    let fields: Vec<(&str, FieldKind)> = columns
        .iter()
        .map(|(name, k, _)| (name.as_str(), kind(k)))
        .collect();
    let mut features = Vec::with_capacity(wkbs.len());
    for (k, wkb) in wkbs.iter().enumerate() {
        let g = gdal::vector::Geometry::from_wkb(wkb)
            .and_then(|mut g| {
                g.flatten_to_2d(); // Z and M values are dropped
                g.to_geo()
            })
            .map_err(|e| fail(format!("geometry {k} is not valid WKB: {e}")))?;
        let mp = qingshan::zones::polygons_of(g)
            .map_err(|t| fail(format!("geometry {k} is a {t}; zones are polygons")))?;
        let mut props = Map::new();
        for (name, k_, values) in &columns {
            let value = match (&values[k], kind(k_)) {
                (None, _) => Value::Null,
                (Some(v), FieldKind::Integer) => {
                    Value::Number(v.parse::<i64>().map(Number::from).map_err(|_| {
                        fail(format!(
                            "{name} of geometry {k} ({v:?}) is not a 64-bit integer"
                        ))
                    })?)
                }
                (Some(v), FieldKind::Real) => v
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
                (Some(v), FieldKind::Text) => Value::String(v.clone()),
            };
            props.insert(name.clone(), value);
        }
        features.push((mp, props));
    }
    write_polygons(&path, "zones", &crs, &fields, &features).map_err(|e| fail(e.to_string()))
}

/// A zone layer as qingshan reads it: (ids, WKB geometries, CRS as WKT),
/// the ids and geometries every result names, in the layer's order.
#[pyfunction]
#[pyo3(signature = (path, id_field=None, layer=None, encoding=None))]
fn read_zones(
    py: Python<'_>,
    path: PathBuf,
    id_field: Option<String>,
    layer: Option<String>,
    encoding: Option<String>,
) -> PyResult<(Vec<String>, Vec<Py<PyBytes>>, String)> {
    use gdal::vector::ToGdal;
    qingshan::raster::setup_gdal();
    let source = qingshan::commands::ZoneSource {
        path,
        options: qingshan::zones::ZoneOptions {
            id_field,
            layer,
            encoding,
            ..Default::default()
        },
    };
    let zones = py
        .detach(|| source.read())
        .map_err(|e| InputError::new_err(qingshan::one_line(&e.to_string())))?;
    let mut wkbs = Vec::with_capacity(zones.zones.len());
    for z in &zones.zones {
        let g = z
            .geometry
            .to_gdal()
            .and_then(|g| g.wkb())
            .map_err(|e| Error::new_err(e.to_string()))?;
        wkbs.push(PyBytes::new(py, &g).unbind());
    }
    let ids = zones.zones.iter().map(|z| z.id.clone()).collect();
    Ok((ids, wkbs, zones.crs.wkt.clone()))
}

/// The extension module.
#[pymodule]
fn _qingshan(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(spec, m)?)?;
    m.add_function(wrap_pyfunction!(write_layer, m)?)?;
    m.add_function(wrap_pyfunction!(read_zones, m)?)?;
    Ok(())
}
