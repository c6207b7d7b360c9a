//! One function per subcommand: arguments into the library's command
//! (`qingshan::commands`), its result out through `qingshan::export`, an
//! exit code back. Errors print as one line (`error: …`) and exit 1.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use qingshan::RunOptions;
use qingshan::area::AreaMode;
use qingshan::commands::{self as lib, ZoneSource};
use qingshan::export::{self, Format};
use qingshan::redline::{CheckLimits, DiffOptions};
use qingshan::report::ReportOptions;

use crate::cli::{
    AuditArgs, BatchArgs, ChangeArgs, CheckArgs, Cli, Command, DemoArgs, DiffArgs, MergeArgs,
    OutputArgs, RedlineCommand, ReportArgs, RunArgs, SeriesArgs, SlopeArgs, StatsArgs, ValuesArgs,
};
use crate::progress::Bar;
use crate::session::Session;

/// Exit code when a check failed (red line shrank, target missed).
pub const EXIT_CHECK_FAILED: u8 = 3;

/// Runs a parsed command line on the terminal: its exit code.
pub fn run(cli: Cli) -> ExitCode {
    qingshan::raster::setup_gdal();
    // Ctrl-C (or a kill) removes the temporary files of outputs in progress.
    qingshan::fsio::clean_up_on_signals();
    let s = Session::terminal();
    let result = match check_output(cli.command.output()) {
        Err(e) => Err(e),
        Ok(()) => dispatch(&s, cli.command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // Every error, a closed standard output included (the result did
        // not arrive), is one line and exit 1.
        Err(e) => {
            eprintln!("error: {}", qingshan::one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

/// Runs one command in `s`: its exit code (0, or 3 when a check failed).
pub fn dispatch(s: &Session, command: Command) -> Result<u8> {
    match command {
        Command::Stats(a) => stats(s, a),
        Command::Change(a) => change(s, a),
        Command::Redline(RedlineCommand::Diff(a)) => redline_diff(s, a),
        Command::Redline(RedlineCommand::Check(a)) => redline_check(s, a),
        Command::Slope(a) => slope(s, a),
        Command::Values(a) => values(s, a),
        Command::Series(a) => series(s, a),
        Command::Batch(a) => batch(s, a),
        Command::Merge(a) => merge(s, a),
        Command::Demo(a) => demo(s, a),
        Command::Audit(a) => audit(s, a),
        Command::Report(a) => report(s, a),
    }
}

/// Refuses, before any work, an output that cannot be written: an XLSX
/// workbook (a zip file) to a terminal.
fn check_output(out: Option<&OutputArgs>) -> Result<()> {
    if let Some(out) = out
        && out.format() == Format::Xlsx
        && out.path().as_os_str() == "-"
        && std::io::stdout().is_terminal()
    {
        anyhow::bail!(
            "XLSX is a binary file and the standard output is a terminal: give -o FILE.xlsx, or redirect the output"
        );
    }
    Ok(())
}

/// ` → PATH` for a summary line, nothing for standard output.
fn arrow(path: &Path) -> String {
    if path.as_os_str() == "-" {
        String::new()
    } else {
        format!(" → {}", path.display())
    }
}

impl RunArgs {
    fn options<'a>(&self, bar: &'a Bar) -> RunOptions<'a> {
        RunOptions {
            threads: self.threads,
            progress: Some(bar),
        }
    }
}

fn stats(s: &Session, a: StatsArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "stats");
    let (report, export, what) = match a.landuse.source(a.zones.layer.encoding.clone()) {
        Some(source) => {
            let run = lib::landuse_stats(
                &lib::LandUseStatsArgs {
                    landuse: source,
                    zones: a.zones.source(),
                    legend: a.classes.legend_or("sandiao"),
                    area: a.classes.area,
                    output: a.out.output.clone(),
                },
                &a.run.options(&bar),
            )?;
            let what = format!("{} land-use polygons", run.landuse.polygons.len());
            (run.report, (run.legend, run.zones), what)
        }
        None => {
            let run = lib::stats(
                &lib::StatsArgs {
                    landcover: a.landcover,
                    band: a.classes.band,
                    zones: a.zones.source(),
                    legend: a.classes.legend_or("clcd"),
                    area: a.classes.area,
                    output: a.out.output.clone(),
                },
                &a.run.options(&bar),
            )?;
            let what = format!(
                "{} tile(s), {:.1} Mpixel",
                run.land_cover.tiles.len(),
                run.land_cover.cells() as f64 / 1e6
            );
            (run.report, (run.legend, run.zones), what)
        }
    };
    s.warn(&report.warnings);
    let path = a.out.path();
    let (legend, zones) = export;
    let out = qingshan::export::Stats {
        report: &report,
        legend: &legend,
        zones: Some(&zones),
    };
    s.result(&path, a.out.format(), &out)?;
    s.summary(
        &bar,
        &format!(
            "stats: {} zones, {what} in {:.2} s{}",
            report.zones.len(),
            bar.elapsed(),
            arrow(&path)
        ),
    );
    Ok(0)
}

fn slope(s: &Session, a: SlopeArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "slope");
    let cropland = a.cropland.as_ref().map(|path| lib::CroplandSource {
        zones: ZoneSource {
            path: path.clone(),
            options: qingshan::zones::ZoneOptions {
                id_field: a.cropland_id_field.clone(),
                layer: a.cropland_layer.clone(),
                make_valid: a.zones.layer.make_valid,
                encoding: a.zones.layer.encoding.clone(),
                ..Default::default()
            },
        },
        class_field: a.class_field.clone(),
        codes: a.cropland_codes.clone(),
    });
    let run = lib::slope(
        &lib::SlopeArgs {
            dem: a.dem,
            dem_band: a.dem_band,
            zones: a.zones.source(),
            landcover: a.landcover,
            band: a.classes.band,
            legend: a.classes.legend_or("clcd"),
            cropland,
            grades: qingshan::slope::Grades::parse(&a.grades)?,
            area: a.classes.area,
            slope_raster: a.slope_raster.clone(),
            steep_cropland: a.steep_cropland.clone(),
            output: a.out.output.clone(),
        },
        &a.run.options(&bar),
    )?;
    s.warn(&run.report.warnings);
    let path = a.out.path();
    s.result(&path, a.out.format(), &run.export())?;
    let steep = run.report.steep_polygons();
    s.summary(
        &bar,
        &format!(
            "slope: {} zones, {:.1} Mpixel of DEM in {:.2} s{}{}{}",
            run.report.zones.len(),
            (run.dem.grid.width * run.dem.grid.height) as f64 / 1e6,
            bar.elapsed(),
            arrow(&path),
            a.slope_raster
                .as_ref()
                .map(|p| format!(", slope → {}", p.display()))
                .unwrap_or_default(),
            match (&a.steep_cropland, &run.report.polygons) {
                (Some(p), _) => format!(
                    ", {} steep cropland polygon(s) → {}{}",
                    steep.len(),
                    p.display(),
                    run.steep_csv
                        .as_ref()
                        .map(|c| format!(" and {}", c.display()))
                        .unwrap_or_default()
                ),
                (None, Some(_)) => format!(", {} steep cropland polygon(s)", steep.len()),
                _ => String::new(),
            }
        ),
    );
    Ok(0)
}

fn values(s: &Session, a: ValuesArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "values");
    let run = lib::values(
        &lib::ValuesArgs {
            raster: a.raster,
            band: a.band,
            scale: lib::parse_scale_offset(&a.scale_offset)?,
            zones: a.zones.source(),
            stats: qingshan::values::Stat::parse_list(&a.stats)?,
            area: a.area,
            memory_pairs: qingshan::values::ValuesOptions::pairs_in_mb(a.quantile_memory_mb)?,
            output: a.out.output.clone(),
        },
        &a.run.options(&bar),
    )?;
    s.warn(&run.report.warnings);
    let path = a.out.path();
    s.result(&path, a.out.format(), &run.export())?;
    s.summary(
        &bar,
        &format!(
            "values: {} zones, {:.1} Mpixel in {:.2} s{}",
            run.report.zones.len(),
            (run.raster.grid.width * run.raster.grid.height) as f64 / 1e6,
            bar.elapsed(),
            arrow(&path)
        ),
    );
    Ok(0)
}

fn series(s: &Session, a: SeriesArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "series");
    let dated = |specs: &[String]| -> Result<Vec<(String, Vec<String>)>> {
        specs
            .iter()
            .map(|s| {
                let (d, p) = qingshan::series::parse_dated(s)?;
                Ok((d, vec![p]))
            })
            .collect()
    };
    let run = lib::series(
        &lib::SeriesArgs {
            landcover: dated(&a.landcover)?,
            band: a.classes.band,
            legend: a.classes.legend_or("clcd"),
            rasters: dated(&a.raster)?,
            raster_band: a.raster_band,
            raster_name: a.raster_name,
            scale: lib::parse_scale_offset(&a.scale_offset)?,
            stats: qingshan::values::Stat::parse_list(&a.stats)?,
            memory_pairs: qingshan::values::ValuesOptions::pairs_in_mb(a.quantile_memory_mb)?,
            zones: a.zones.source(),
            area: a.classes.area,
            charts: a.charts.clone(),
            target_cover: a.target_cover,
            output: a.out.output.clone(),
        },
        &a.run.options(&bar),
    )?;
    s.warn(&run.report.warnings);
    s.warn(&run.chart_warnings);
    let path = a.out.path();
    s.result(&path, a.out.format(), &run.export())?;
    s.summary(
        &bar,
        &format!(
            "series: {} zones, {} date(s) in {:.2} s{}{}",
            run.report.zones.len(),
            run.report.dates.len(),
            bar.elapsed(),
            arrow(&path),
            match &a.charts {
                Some(d) if !run.charts.is_empty() => {
                    format!(", {} chart file(s) → {}", run.charts.len(), d.display())
                }
                _ => String::new(),
            }
        ),
    );
    Ok(0)
}

fn landuse_change(
    s: &Session,
    a: ChangeArgs,
    (before, after): (lib::LandUseSource, lib::LandUseSource),
) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "change");
    let run = lib::landuse_change(
        &lib::LandUseChangeArgs {
            before,
            after,
            zones: a.zones.source(),
            legend: a.classes.legend_or("sandiao"),
            area: a.classes.area,
            change_list: a.change_list.clone(),
            output: a.out.output.clone(),
        },
        &a.run.options(&bar),
    )?;
    s.warn(&run.change.report.warnings);
    let path = a.out.path();
    s.result(&path, a.out.format(), &run.export())?;
    s.summary(
        &bar,
        &format!(
            "change: {} zones, {} → {} land-use polygons, {} changed pieces in {:.2} s{}{}",
            run.change.report.zones.len(),
            run.before_polygons,
            run.after_polygons,
            run.change.changed.len(),
            bar.elapsed(),
            arrow(&path),
            a.change_list
                .as_ref()
                .map(|p| format!(", change list → {}", p.display()))
                .unwrap_or_default()
        ),
    );
    Ok(0)
}

fn change(s: &Session, a: ChangeArgs) -> Result<u8> {
    if let Some(sources) = a.landuse.sources(a.zones.layer.encoding.clone()) {
        return landuse_change(s, a, sources);
    }
    let bar = s.bar(a.run.quiet, "change");
    let run = lib::change(
        &lib::ChangeArgs {
            before: a.before,
            after: a.after,
            band: a.classes.band,
            zones: a.zones.source(),
            legend: a.classes.legend_or("clcd"),
            area: a.classes.area,
            change_raster: a.change_raster.clone(),
            output: a.out.output.clone(),
        },
        &a.run.options(&bar),
    )?;
    s.warn(&run.report.warnings);
    let path = a.out.path();
    s.result(&path, a.out.format(), &run.export())?;
    s.summary(
        &bar,
        &format!(
            "change: {} zones, {:.1} Mpixel per date in {:.2} s{}{}",
            run.report.zones.len(),
            run.before.cells() as f64 / 1e6,
            bar.elapsed(),
            arrow(&path),
            a.change_raster
                .as_ref()
                .map(|p| format!(", transitions → {}", p.display()))
                .unwrap_or_default()
        ),
    );
    Ok(0)
}

fn redline_diff(s: &Session, a: DiffArgs) -> Result<u8> {
    if a.id_field.is_none() {
        s.warn(&["red-line polygons are matched by feature id (GeoJSON id or index, FID in other formats); pass --id-field to match them by an attribute such as hx_id".to_string()]);
    }
    let run = lib::diff(&lib::DiffArgs {
        old: a.old,
        new: a.new,
        id_field: a.id_field,
        towns: a.towns,
        towns_id_field: a.towns_id_field,
        make_valid: a.make_valid,
        encoding: a.encoding,
        options: DiffOptions {
            tolerance_m2: a.tolerance_m2,
            strict: a.strict,
            area: a.area,
        },
        output: a.out.output.clone(),
        lost_geometry: a.lost_geometry.clone(),
    })?;
    s.warn(&run.diff.warnings);
    s.result(&a.out.path(), a.out.format(), &run.export())?;
    if let Some(lost) = &a.lost_geometry {
        s.write(lost, Format::GeoJson, &run.lost_geometry())?;
    }
    if let Some(why) = run.failure() {
        s.note(&format!("redline: {why}"));
        return Ok(EXIT_CHECK_FAILED);
    }
    Ok(0)
}

fn redline_check(s: &Session, a: CheckArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "check");
    let landuse = a.landuse.sources(a.layer.encoding.clone());
    let from_landuse = landuse.is_some();
    let default_legend = if from_landuse { "sandiao" } else { "clcd" };
    let run = lib::check(
        &lib::CheckArgs {
            redlines: ZoneSource {
                path: a.redlines,
                options: a.layer.options(),
            },
            before: a.before,
            after: a.after,
            band: a.classes.band,
            legend: a.classes.legend_or(default_legend),
            limits: CheckLimits {
                max_conversion_m2: a.max_conversion_m2,
                max_vegetation_loss: a.max_vegetation_loss,
            },
            area: a.classes.area,
            patches: a.patches.clone(),
            output: a.out.output.clone(),
            landuse,
        },
        &a.run.options(&bar),
    )?;
    s.warn(&run.check.warnings);
    if let (Some(path), true) = (&a.patches, from_landuse) {
        s.summary(
            &bar,
            &format!("check: converted pieces → {}", path.display()),
        );
    }
    s.result(&a.out.path(), a.out.format(), &run.export())?;
    if let (Some(path), Some(patches)) = (&a.patches, run.patches()) {
        s.write(path, Format::GeoJson, &patches)?;
        s.summary(
            &bar,
            &format!(
                "check: {} conversion patch(es) → {}",
                patches.patches.len(),
                path.display()
            ),
        );
    }
    if !run.check.ok {
        for line in run.violations() {
            s.note(&format!("redline {line}"));
        }
        return Ok(EXIT_CHECK_FAILED);
    }
    Ok(0)
}

fn batch(s: &Session, a: BatchArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "batch");
    let options = a.run.options(&bar);
    if a.read_only {
        let (tiles, cells) = lib::read_only(&a.tiles, a.classes.band, &options)?;
        s.summary(
            &bar,
            &format!(
                "batch --read-only: {} tiles, {:.1} Mpixel read in {:.2} s ({:.1} Mpixel/s)",
                tiles,
                cells as f64 / 1e6,
                bar.elapsed(),
                cells as f64 / 1e6 / bar.elapsed().max(1e-9)
            ),
        );
        return Ok(0);
    }
    let prepared = lib::prepare_batch(
        &lib::BatchArgs {
            tiles: a.tiles,
            after_tiles: a.after_tiles,
            zones: ZoneSource {
                path: a.zones.unwrap_or_default(),
                options: a.layer.options(),
            },
            legend: a.classes.legend_or("clcd"),
            band: a.classes.band,
            out_dir: a.out_dir.clone(),
            shard: a.shard,
            resume: a.resume,
            overlap: a.overlap,
            area: a.classes.area,
        },
        &options,
    )?;
    s.warn(prepared.repairs());
    let run = prepared.run(&options)?;
    let (sum, secs) = (&run.summary, bar.elapsed());
    let mut line = format!(
        "batch: {} tiles{}, {:.1} of {:.1} Mpixel read, {:.2} s ({:.1} Mpixel/s)",
        sum.tiles,
        if sum.skipped > 0 {
            format!(" ({} already done)", sum.skipped)
        } else {
            String::new()
        },
        sum.cells_read as f64 / 1e6,
        sum.cells as f64 / 1e6,
        secs,
        sum.cells as f64 / 1e6 / secs.max(1e-9)
    );
    match (&run.finished, run.shard) {
        (Some((merged, out, qa)), _) => {
            s.warn(merged.warnings());
            s.result_file(out)?;
            line.push_str(&format!(" → {} and {}", out.display(), qa.display()));
        }
        (None, Some(sh)) => line.push_str(&format!(
            "; shard {}/{} partials in {} — combine the shards with `qingshan merge`",
            sh.index,
            sh.count,
            a.out_dir.join("partials").display()
        )),
        (None, None) => {}
    }
    s.summary(&bar, &line);
    Ok(0)
}

fn merge(s: &Session, a: MergeArgs) -> Result<u8> {
    let (manifest, merged, qa) = lib::merge(&a.partials, a.out.output.as_ref(), a.qa.as_ref())?;
    s.warn(merged.warnings());
    let out = qingshan::batch::MergedOutput {
        result: &merged,
        legend: &manifest.legend,
    };
    s.result(&a.out.path(), a.out.format(), &out)?;
    if let Some(q) = &a.qa {
        s.write(q, Format::Csv, &qingshan::batch::QaTable(&qa))?;
    }
    Ok(0)
}

/// The fixtures directory: `--fixtures`, else `./fixtures`, else the
/// repository's (where this binary was built).
fn fixtures_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = match given {
        Some(p) => vec![p],
        None => vec![
            PathBuf::from("fixtures"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"),
        ],
    };
    candidates
        .iter()
        .find(|p| p.join("towns.geojson").is_file())
        .cloned()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "fixtures not found (looked in {}); pass --fixtures DIR (the repository's fixtures/)",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn demo(s: &Session, a: DemoArgs) -> Result<u8> {
    let fx = fixtures_dir(a.fixtures)?;
    let shown = fx.canonicalize().unwrap_or_else(|_| fx.clone());
    s.say(&format!(
        "qingshan demo: the plan's targets on synthetic Jinsuoguan (金锁关镇) and Azhuang (阿庄镇) towns\n\
         (fixtures in {}; all data is synthetic)\n\n",
        shown.display()
    ))?;
    let audit = run_audit(
        s,
        &fx.join("audit.toml"),
        &a.out,
        &ReportOptions {
            lang: a.lang,
            map_size: 900,
        },
        &RunOptions {
            threads: a.threads,
            progress: None,
        },
        None,
    )?;
    s.say(&format!(
        "\nThe demo data are built to miss some targets ({} of {} here), as a real audit may; \
         `qingshan audit` exits 3 in that case, the demo exits 0. Open the report in a browser.\n",
        audit.missed,
        audit.targets.len()
    ))?;
    Ok(0)
}

/// Runs an audit and writes its bundle into `dir`, printing the target
/// table; returns the audit.
fn run_audit(
    s: &Session,
    config: &Path,
    dir: &Path,
    report: &ReportOptions,
    run: &RunOptions<'_>,
    area: Option<AreaMode>,
) -> Result<qingshan::audit::AuditReport> {
    let (audit, paths) = lib::audit(config, dir, report, run, area)?;
    s.warn(&audit.warnings);
    let mut out = Vec::new();
    writeln!(
        out,
        "{}",
        audit
            .title
            .as_deref()
            .or(audit.title_en.as_deref())
            .unwrap_or("qingshan audit")
    )?;
    export::render(&export::Audit(&audit), Format::Table, &mut out)?;
    writeln!(
        out,
        "\n{} → {} and {}",
        if audit.passed {
            "every target met".to_string()
        } else {
            format!("{} of {} targets missed", audit.missed, audit.targets.len())
        },
        paths.audit_json.display(),
        paths.report_html.display()
    )?;
    s.say(&String::from_utf8_lossy(&out))?;
    s.result_file(&paths.audit_json)?;
    Ok(audit)
}

fn audit(s: &Session, a: AuditArgs) -> Result<u8> {
    let bar = s.bar(a.run.quiet, "audit");
    let audit = run_audit(
        s,
        &a.config,
        &a.out,
        &ReportOptions {
            lang: a.lang,
            map_size: a.map_size,
        },
        &a.run.options(&bar),
        a.area,
    )?;
    if !audit.passed {
        for t in audit.targets.iter().filter(|t| !t.passed) {
            s.note(&format!(
                "audit: missed {} ({}): {}",
                t.target,
                t.id.as_deref().unwrap_or("total"),
                t.verdict
            ));
        }
        return Ok(EXIT_CHECK_FAILED);
    }
    Ok(0)
}

fn report(s: &Session, a: ReportArgs) -> Result<u8> {
    if a.map_size.is_some() {
        s.note(
            "error: report draws no maps any more: they are in the audit's bundle; pass --map-size to qingshan audit",
        );
        return Ok(2);
    }
    let run = lib::report(&a.audit, &a.output, a.lang)?;
    s.warn(&run.warnings);
    qingshan::fsio::write_atomic(&a.output, |w| w.write_all(run.html.as_bytes()))?;
    s.note(&format!("report → {}", a.output.display()));
    Ok(0)
}
