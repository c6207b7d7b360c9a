//! One function per subcommand: call the library, write the output, pick
//! the exit code. Errors print as one line (`error: …`) and exit 1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use qingshan::RunOptions;
use qingshan::audit::{AuditConfig, run_audit};
use qingshan::batch::{
    Batch, BatchConfig, Merged, OverlapPolicy, Shard, ZoneInput, discover_tiles, merge, read_tiles,
    write_qa_csv,
};
use qingshan::change::{ChangeRaster, land_cover_change};
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::redline::{
    CheckLimits, DiffOptions, redline_check, redline_check_with_patches, redline_diff,
};
use qingshan::report::html::{Lang, ReportOptions, render_html};
use qingshan::report::{self, Format};
use qingshan::zonal::zonal_stats;
use qingshan::zones::{ZoneLayer, ZoneOptions};

use crate::cli::{
    AuditArgs, BatchArgs, ChangeArgs, CheckArgs, Cli, Command, DemoArgs, DiffArgs, FormatArg,
    LangArg, MergeArgs, OutputArgs, OverlapArg, RedlineCommand, ReportArgs, StatsArgs, ZoneArgs,
};
use crate::progress::Bar;

/// Exit code when a check failed (red line shrank, target missed).
pub const EXIT_CHECK_FAILED: u8 = 3;

pub fn run(cli: Cli) -> ExitCode {
    // GDAL's own messages would duplicate ours: errors come back as Results.
    gdal::config::set_error_handler(|_, _, _| {});
    qingshan::raster::configure_gdal_cache(16);
    let result = match cli.command {
        Command::Stats(a) => stats(a),
        Command::Change(a) => change(a),
        Command::Redline(RedlineCommand::Diff(a)) => redline_diff_cmd(a),
        Command::Redline(RedlineCommand::Check(a)) => redline_check_cmd(a),
        Command::Batch(a) => batch_cmd(a),
        Command::Merge(a) => merge_cmd(a),
        Command::Demo(a) => demo(a),
        Command::Audit(a) => audit_cmd(a),
        Command::Report(a) => report_cmd(a),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`qingshan … | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe")
    })
}

fn warn(lines: &[String]) {
    for l in lines {
        eprintln!("warning: {l}");
    }
}

pub fn zone_options(z: &ZoneArgs) -> ZoneOptions {
    ZoneOptions {
        id_field: z.id_field.clone(),
        name_field: z.name_field.clone(),
        layer: z.layer.clone(),
        make_valid: z.make_valid,
    }
}

fn format_of(out: &OutputArgs) -> Format {
    format_from(out.format, &out.output)
}

fn format_from(format: Option<FormatArg>, output: &Option<PathBuf>) -> Format {
    match (format, output) {
        (Some(FormatArg::Json), _) => Format::Json,
        (Some(FormatArg::Csv), _) => Format::Csv,
        (Some(FormatArg::Geojson), _) => Format::GeoJson,
        (Some(FormatArg::Table), _) => Format::Table,
        (None, Some(p)) => Format::from_path(p),
        (None, None) => Format::Json,
    }
}

fn output_path(out: &OutputArgs) -> PathBuf {
    out.output.clone().unwrap_or_else(|| PathBuf::from("-"))
}

/// Opens the land cover and reads the zones at the same time (both are
/// mostly waiting on GDAL/PROJ start-up and parsing).
fn open_inputs(
    landcover: &[String],
    band: usize,
    zones: &ZoneArgs,
) -> Result<(LandCover, ZoneLayer)> {
    std::thread::scope(|s| {
        let z = s.spawn(|| ZoneLayer::read(&zones.zones, &zone_options(zones)));
        let lc = LandCover::open(landcover, band);
        let z = z
            .join()
            .map_err(|_| anyhow::anyhow!("reading zones failed"))?;
        Ok((lc?, z?))
    })
}

fn stats(a: StatsArgs) -> Result<ExitCode> {
    let legend = Legend::load(&a.classes.legend)?;
    let (lc, zones) = open_inputs(&a.landcover, a.classes.band, &a.zones)?;
    let bar = Bar::new(a.out.quiet, "stats");
    let report = zonal_stats(
        &lc,
        &zones,
        &legend,
        &RunOptions {
            threads: a.out.threads,
            progress: Some(&bar),
        },
    )?;
    warn(&report.warnings);
    let path = output_path(&a.out);
    write(&path, format_of(&a.out), |w, f| match f {
        Format::Json => report::write_json(&report, w),
        Format::Csv => report::write_stats_csv(&report, &legend, w),
        Format::GeoJson => report::write_stats_geojson(&report, &zones, w),
        Format::Table => report::write_stats_table(&report, w),
    })?;
    bar.summary(&format!(
        "stats: {} zones, {} tile(s), {:.1} Mpixel in {:.2} s{}",
        report.zones.len(),
        lc.tiles.len(),
        lc.cells() as f64 / 1e6,
        bar.elapsed(),
        if path.as_os_str() == "-" {
            String::new()
        } else {
            format!(" → {}", path.display())
        }
    ));
    Ok(ExitCode::SUCCESS)
}

fn change(a: ChangeArgs) -> Result<ExitCode> {
    let legend = Legend::load(&a.classes.legend)?;
    let after = LandCover::open(&a.after, a.classes.band)?;
    let (before, zones) = open_inputs(&a.before, a.classes.band, &a.zones)?;
    let bar = Bar::new(a.out.quiet, "change");
    let raster = a
        .change_raster
        .as_ref()
        .map(|p| ChangeRaster { path: p.clone() });
    let report = land_cover_change(
        &before,
        &after,
        &zones,
        &legend,
        &RunOptions {
            threads: a.out.threads,
            progress: Some(&bar),
        },
        raster.as_ref(),
    )?;
    warn(&report.warnings);
    let path = output_path(&a.out);
    write(&path, format_of(&a.out), |w, f| match f {
        Format::Json => report::write_json(&report, w),
        Format::Csv => report::write_change_csv(&report, &legend, w),
        Format::GeoJson => report::write_change_geojson(&report, &zones, w),
        Format::Table => report::write_change_table(&report, &legend, w),
    })?;
    bar.summary(&format!(
        "change: {} zones, {:.1} Mpixel per date in {:.2} s{}{}",
        report.zones.len(),
        before.cells() as f64 / 1e6,
        bar.elapsed(),
        if path.as_os_str() == "-" {
            String::new()
        } else {
            format!(" → {}", path.display())
        },
        a.change_raster
            .as_ref()
            .map(|p| format!(", transitions → {}", p.display()))
            .unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}

fn redline_diff_cmd(a: DiffArgs) -> Result<ExitCode> {
    let opts = |id: &Option<String>| ZoneOptions {
        id_field: id.clone(),
        make_valid: a.make_valid,
        ..Default::default()
    };
    if a.id_field.is_none() {
        warn(&["red-line polygons are matched by feature id (GeoJSON id or index, FID in other formats); pass --id-field to match them by an attribute such as hx_id".to_string()]);
    }
    let old = ZoneLayer::read(&a.old, &opts(&a.id_field))?;
    let new = ZoneLayer::read(&a.new, &opts(&a.id_field))?;
    let towns = match &a.towns {
        Some(t) => Some(ZoneLayer::read(t, &opts(&a.towns_id_field))?),
        None => None,
    };
    let d = redline_diff(
        &old,
        &new,
        towns.as_ref(),
        &DiffOptions {
            tolerance_m2: a.tolerance_m2,
            strict: a.strict,
        },
    )?;
    warn(&d.warnings);
    let path = a.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    write(&path, format_from(a.format, &a.output), |w, f| match f {
        Format::Json => report::write_json(&d, w),
        Format::Csv => report::write_diff_csv(&d, w),
        Format::GeoJson => report::write_diff_geojson(&d, &old, &new, w),
        Format::Table => report::write_diff_table(&d, w),
    })?;
    if let Some(lost) = &a.lost_geometry {
        write(lost, Format::GeoJson, |w, _| {
            report::write_lost_geometry(&d, w)
        })?;
    }
    if d.failed {
        eprintln!(
            "redline: {} (old {:.1} m², new {:.1} m², lost {:.1} m², gained {:.1} m²)",
            if d.shrunk {
                "the red line shrank"
            } else {
                "area was lost (--strict)"
            },
            d.old_total_m2,
            d.new_total_m2,
            d.lost_m2,
            d.gained_m2
        );
        return Ok(ExitCode::from(EXIT_CHECK_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

fn redline_check_cmd(a: CheckArgs) -> Result<ExitCode> {
    let legend = Legend::load(&a.classes.legend)?;
    let zone_args = ZoneArgs {
        zones: a.redlines.clone(),
        id_field: a.id_field.clone(),
        name_field: None,
        layer: a.layer.clone(),
        make_valid: a.make_valid,
    };
    let after = LandCover::open(&a.after, a.classes.band)?;
    let (before, redlines) = open_inputs(&a.before, a.classes.band, &zone_args)?;
    let bar = Bar::new(a.out.quiet, "check");
    let run = RunOptions {
        threads: a.out.threads,
        progress: Some(&bar),
    };
    let limits = CheckLimits {
        max_conversion_m2: a.max_conversion_m2,
        max_vegetation_loss: a.max_vegetation_loss,
    };
    // With --patches, one pass gives the check and the conversion mask.
    let (c, patches) = match &a.patches {
        Some(p) => {
            let dir = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let (c, crs, patches) = redline_check_with_patches(
                &before, &after, &redlines, &legend, &limits, &run, &dir,
            )?;
            (c, Some((p, crs, patches)))
        }
        None => (
            redline_check(&before, &after, &redlines, &legend, &limits, &run)?,
            None,
        ),
    };
    warn(&c.warnings);
    let path = output_path(&a.out);
    write(&path, format_of(&a.out), |w, f| match f {
        Format::Json => report::write_json(&c, w),
        Format::Csv => report::write_check_csv(&c, w),
        Format::GeoJson => report::write_check_geojson(&c, &redlines, w),
        Format::Table => report::write_check_table(&c, w),
    })?;
    if let Some((p, crs, patches)) = patches {
        write(p, Format::GeoJson, |w, _| {
            report::write_patches_geojson(&crs, &patches, &legend, w)
        })?;
        bar.summary(&format!(
            "check: {} conversion patch(es) → {}",
            patches.len(),
            p.display()
        ));
    }
    if !c.ok {
        for p in c.polygons.iter().filter(|p| !p.violations.is_empty()) {
            eprintln!("redline {}: {}", p.id, p.violations.join("; "));
        }
        return Ok(ExitCode::from(EXIT_CHECK_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

fn batch_cmd(a: BatchArgs) -> Result<ExitCode> {
    let tiles = discover_tiles(&a.tiles)?;
    let bar = Bar::new(a.quiet, "batch");
    let run = RunOptions {
        threads: a.threads,
        progress: Some(&bar),
    };
    if a.read_only {
        let t = tiles
            .iter()
            .map(|p| qingshan::raster::Tile::open(p, a.classes.band))
            .collect::<qingshan::Result<Vec<_>>>()?;
        let cells = read_tiles(&t, &run)?;
        bar.summary(&format!(
            "batch --read-only: {} tiles, {:.1} Mpixel read in {:.2} s ({:.1} Mpixel/s)",
            t.len(),
            cells as f64 / 1e6,
            bar.elapsed(),
            cells as f64 / 1e6 / bar.elapsed().max(1e-9)
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let legend = Legend::load(&a.classes.legend)?;
    let zone_args = ZoneArgs {
        zones: a.zones.clone().unwrap_or_default(),
        id_field: a.id_field.clone(),
        name_field: a.name_field.clone(),
        layer: a.layer.clone(),
        make_valid: a.make_valid,
    };
    let zones = ZoneInput::File(zone_args.zones.clone(), zone_options(&zone_args));
    let after = match &a.after_tiles {
        Some(t) => Some(discover_tiles(t)?),
        None => None,
    };
    let shard = a.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let batch = Batch::prepare(
        BatchConfig {
            tiles,
            after_tiles: after,
            band: a.classes.band,
            out_dir: a.out_dir.clone(),
            shard,
            resume: a.resume,
            overlap: match a.overlap {
                OverlapArg::Refuse => OverlapPolicy::Refuse,
                OverlapArg::First => OverlapPolicy::First,
            },
        },
        zones,
        legend,
        &run,
    )?;
    warn(batch.repairs());
    let s = batch.run(&run)?;
    let secs = bar.elapsed();
    let mut line = format!(
        "batch: {} tiles{}, {:.1} of {:.1} Mpixel read, {:.2} s ({:.1} Mpixel/s)",
        s.tiles,
        if s.skipped > 0 {
            format!(" ({} already done)", s.skipped)
        } else {
            String::new()
        },
        s.cells_read as f64 / 1e6,
        s.cells as f64 / 1e6,
        secs,
        s.cells as f64 / 1e6 / secs.max(1e-9)
    );
    match shard {
        Some(sh) if sh.count > 1 => {
            line.push_str(&format!(
                "; shard {}/{} partials in {} — combine the shards with `qingshan merge`",
                sh.index,
                sh.count,
                a.out_dir.join("partials").display()
            ));
        }
        _ => {
            let (merged, out, qa_path) = qingshan::batch::finish(&a.out_dir)?;
            warn(merged.warnings());
            line.push_str(&format!(" → {} and {}", out.display(), qa_path.display()));
        }
    }
    bar.summary(&line);
    Ok(ExitCode::SUCCESS)
}

fn merge_cmd(a: MergeArgs) -> Result<ExitCode> {
    let (manifest, merged, qa) = merge(&a.partials)?;
    warn(merged.warnings());
    let path = a.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    let legend = &manifest.legend;
    write(&path, format_from(a.format, &a.output), |w, f| {
        match (&merged, f) {
            (Merged::Stats(r), Format::Json) => report::write_json(r, w),
            (Merged::Stats(r), Format::Csv) => report::write_stats_csv(r, legend, w),
            (Merged::Stats(r), Format::Table) => report::write_stats_table(r, w),
            (Merged::Change(r), Format::Json) => report::write_json(r, w),
            (Merged::Change(r), Format::Csv) => report::write_change_csv(r, legend, w),
            (Merged::Change(r), Format::Table) => report::write_change_table(r, legend, w),
            (_, Format::GeoJson) => Err(std::io::Error::other(
                "merge cannot write GeoJSON (partials hold no geometry): use json, csv or table",
            )),
        }
    })?;
    if let Some(q) = &a.qa {
        write(q, Format::Csv, |w, _| write_qa_csv(&qa, w))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write(
    path: &Path,
    format: Format,
    f: impl FnOnce(&mut dyn std::io::Write, Format) -> std::io::Result<()>,
) -> Result<()> {
    qingshan::fsio::write_atomic(path, |w| f(w, format))
        .with_context(|| format!("writing {}", path.display()))
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

fn demo(a: DemoArgs) -> Result<ExitCode> {
    let fx = fixtures_dir(a.fixtures)?;
    let shown = fx.canonicalize().unwrap_or_else(|_| fx.clone());
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "qingshan demo: the plan's targets on synthetic Jinsuoguan (金锁关镇) and Azhuang (阿庄镇) towns"
    )?;
    writeln!(
        out,
        "(fixtures in {}; all data is synthetic)\n",
        shown.display()
    )?;
    drop(out);
    let audit = run_and_report(
        &fx.join("audit.toml"),
        &a.out,
        a.lang,
        900,
        &RunOptions {
            threads: a.threads,
            progress: None,
        },
    )?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\nThe demo data are built to miss some targets ({} of {} here), as a real audit may; \
         `qingshan audit` exits 3 in that case, the demo exits 0. Open the report in a browser.",
        audit.missed,
        audit.targets.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an audit, writes audit.json and report.html into `dir`, prints the
/// target table, and returns the audit.
fn run_and_report(
    config: &Path,
    dir: &Path,
    lang: LangArg,
    map_size: usize,
    run: &RunOptions<'_>,
) -> Result<qingshan::audit::AuditReport> {
    let cfg = AuditConfig::load(config)?;
    let audit = run_audit(&cfg, config, run)?;
    warn(&audit.warnings);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = dir.join("audit.json");
    write(&json, Format::Json, |w, _| report::write_json(&audit, w))?;
    let html = render_html(
        &audit,
        &ReportOptions {
            lang: lang_of(lang),
            map_size,
        },
    )?;
    let page = dir.join("report.html");
    write(&page, Format::Json, |w, _| w.write_all(html.as_bytes()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        audit
            .title
            .as_deref()
            .or(audit.title_en.as_deref())
            .unwrap_or("qingshan audit")
    )?;
    report::write_audit_table(&audit, &mut out)?;
    writeln!(
        out,
        "\n{} → {} and {}",
        if audit.passed {
            "every target met".to_string()
        } else {
            format!("{} of {} targets missed", audit.missed, audit.targets.len())
        },
        json.display(),
        page.display()
    )?;
    Ok(audit)
}

fn lang_of(l: LangArg) -> Lang {
    match l {
        LangArg::Zh => Lang::Zh,
        LangArg::En => Lang::En,
    }
}

fn audit_cmd(a: AuditArgs) -> Result<ExitCode> {
    let bar = Bar::new(a.quiet, "audit");
    let audit = run_and_report(
        &a.config,
        &a.out,
        a.lang,
        a.map_size,
        &RunOptions {
            threads: a.threads,
            progress: Some(&bar),
        },
    )?;
    if !audit.passed {
        for t in audit.targets.iter().filter(|t| !t.passed) {
            eprintln!(
                "audit: missed {} ({}): {}",
                t.target,
                t.id.as_deref().unwrap_or("total"),
                t.verdict
            );
        }
        return Ok(ExitCode::from(EXIT_CHECK_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

fn report_cmd(a: ReportArgs) -> Result<ExitCode> {
    let audit = qingshan::audit::AuditReport::load(&a.audit)?;
    let html = render_html(
        &audit,
        &ReportOptions {
            lang: lang_of(a.lang),
            map_size: a.map_size,
        },
    )?;
    write(&a.output, Format::Json, |w, _| w.write_all(html.as_bytes()))?;
    eprintln!("report → {}", a.output.display());
    Ok(ExitCode::SUCCESS)
}
