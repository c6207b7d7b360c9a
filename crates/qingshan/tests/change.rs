//! Transition matrices between two dates against answers worked out by
//! hand, and the grid checks.

mod common;

use qingshan::area::AreaMode;

use approx::assert_relative_eq;
use common::{geojson, grid, pixel_rect, write_raster};
use qingshan::RunOptions;
use qingshan::change::{ChangeRaster, ChangeReport, TransitionCoding, land_cover_change};
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::zones::{ZoneLayer, ZoneOptions};

fn open(p: &std::path::Path) -> LandCover {
    LandCover::open(&[p.to_str().unwrap()], 1)
        .unwrap()
        .with_area(AreaMode::Planar)
}

fn run(
    b: &std::path::Path,
    a: &std::path::Path,
    zones: &std::path::Path,
    threads: usize,
) -> qingshan::Result<ChangeReport> {
    let layer = ZoneLayer::read(zones, &ZoneOptions::default())?;
    land_cover_change(
        &LandCover::open(&[b.to_str().unwrap()], 1)?.with_area(AreaMode::Planar),
        &LandCover::open(&[a.to_str().unwrap()], 1)?.with_area(AreaMode::Planar),
        &layer,
        &Legend::builtin("clcd").unwrap(),
        &RunOptions {
            threads: Some(threads),
            progress: None,
        },
        None,
    )
}

/// Before: class 1 left of column 10, class 2 (forest) right of it.
/// After: class 2 above row 6, class 4 below; row 9 nodata after.
/// A rectangle offset by fractions of a cell: each transition area is a
/// product of known overlaps.
#[test]
fn transitions_of_an_offset_rectangle() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 20, 12);
    let (b, a) = (dir.path().join("b.tif"), dir.path().join("a.tif"));
    write_raster::<u8>(&b, &g, Some(0.0), |c, _| if c < 10 { 1 } else { 2 });
    write_raster::<u8>(&a, &g, Some(0.0), |_, r| {
        if r == 9 {
            0
        } else if r < 6 {
            2
        } else {
            4
        }
    });
    let zones = dir.path().join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("z", vec![pixel_rect(&g, 4.25, 2.5, 15.5, 10.75)])],
        ),
    )
    .unwrap();
    let rep = run(&b, &a, &zones, 2).unwrap();
    let z = &rep.zones[0];
    let cell = 900.0;
    // Columns: class 1 over 4.25..10 (5.75), class 2 over 10..15.5 (5.5).
    // Rows: class 2 over 2.5..6 (3.5), class 4 over 6..9 and 10..10.75 (3.75), nodata 9..10 (1).
    let t = |f: i64, to: i64| {
        z.transitions
            .get(&f.into())
            .and_then(|r| r.get(&to.into()))
            .copied()
            .unwrap_or(0.0)
    };
    assert_relative_eq!(t(1, 2), 5.75 * 3.5 * cell, max_relative = 1e-12);
    assert_relative_eq!(t(1, 4), 5.75 * 3.75 * cell, max_relative = 1e-12);
    assert_relative_eq!(t(2, 2), 5.5 * 3.5 * cell, max_relative = 1e-12);
    assert_relative_eq!(t(2, 4), 5.5 * 3.75 * cell, max_relative = 1e-12);
    assert_eq!(z.transitions.values().map(|r| r.len()).sum::<usize>(), 4);
    assert_relative_eq!(z.nodata_area_m2, 11.25 * 1.0 * cell, max_relative = 1e-12);
    assert_relative_eq!(z.valid_area_m2, 11.25 * 7.25 * cell, max_relative = 1e-12);
    assert_relative_eq!(z.forest_before_m2, 5.5 * 7.25 * cell, max_relative = 1e-12);
    assert_relative_eq!(z.forest_after_m2, 11.25 * 3.5 * cell, max_relative = 1e-12);
    assert_relative_eq!(z.forest_gain_m2, t(1, 2), max_relative = 1e-12);
    assert_relative_eq!(z.forest_loss_m2, t(2, 4), max_relative = 1e-12);
    assert_relative_eq!(
        z.forest_net_m2,
        z.forest_after_m2 - z.forest_before_m2,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        z.forest_cover_before.unwrap(),
        5.5 / 11.25,
        max_relative = 1e-12
    );
    // Same bytes at another thread count.
    let one = serde_json::to_string(&run(&b, &a, &zones, 1).unwrap()).unwrap();
    assert_eq!(one, serde_json::to_string(&rep).unwrap());
}

#[test]
fn grids_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 20, 12);
    let b = d.join("b.tif");
    write_raster::<u8>(&b, &g, None, |_, _| 1);
    let zones = d.join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("z", vec![pixel_rect(&g, 1.0, 1.0, 5.0, 5.0)])],
        ),
    )
    .unwrap();

    let cases: Vec<(&str, qingshan::grid::Grid, &str)> = vec![
        (
            "utm.tif",
            grid(32649, 590_000.0, 3_900_000.0, 30.0, 20, 12),
            "different CRSs",
        ),
        (
            "px10.tif",
            grid(4545, 590_000.0, 3_900_000.0, 10.0, 60, 36),
            "different pixel sizes",
        ),
        (
            "shifted.tif",
            grid(4545, 590_007.5, 3_900_000.0, 30.0, 20, 12),
            "not aligned",
        ),
        (
            "far.tif",
            grid(4545, 680_000.0, 3_900_000.0, 30.0, 20, 12),
            "do not overlap",
        ),
    ];
    for (name, g2, what) in cases {
        let a = d.join(name);
        write_raster::<u8>(&a, &g2, None, |_, _| 2);
        let err = run(&b, &a, &zones, 1).unwrap_err().to_string();
        assert!(
            err.contains("b.tif") && err.contains(name) && err.contains(what),
            "{err}"
        );
    }
}

/// Aligned grids with different extents: only the common extent counts,
/// with a warning; after pixels are read at the right offset.
#[test]
fn aligned_grids_with_different_extents_use_the_common_extent() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 20, 12);
    // After: shifted 5 columns right and 2 rows down, 20 × 12 as well.
    let g2 = grid(
        4545,
        590_000.0 + 5.0 * 30.0,
        3_900_000.0 - 2.0 * 30.0,
        30.0,
        20,
        12,
    );
    let (b, a) = (dir.path().join("b.tif"), dir.path().join("a.tif"));
    write_raster::<u8>(&b, &g, None, |c, _| 1 + (c % 2) as u8); // 1,2,1,2 by before column
    // After class = 3 where its own column (before column − 5) is even.
    write_raster::<u16>(&a, &g2, None, |c, _| if c % 2 == 0 { 3 } else { 4 });
    let zones = dir.path().join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("z", vec![pixel_rect(&g, 0.0, 0.0, 20.0, 12.0)])],
        ),
    )
    .unwrap();
    let rep = run(&b, &a, &zones, 2).unwrap();
    let z = &rep.zones[0];
    // Common extent: before columns 5..20 (15), rows 2..12 (10).
    assert_relative_eq!(z.valid_area_m2, 15.0 * 10.0 * 900.0, max_relative = 1e-12);
    // Before column 5 (odd → class 2) is after column 0 (even → class 3).
    let t = |f: i64, to: i64| {
        z.transitions
            .get(&f.into())
            .and_then(|r| r.get(&to.into()))
            .copied()
            .unwrap_or(0.0)
    };
    assert_relative_eq!(t(2, 3), 8.0 * 10.0 * 900.0, max_relative = 1e-12);
    assert_relative_eq!(t(1, 4), 7.0 * 10.0 * 900.0, max_relative = 1e-12);
    assert_eq!(t(1, 3) + t(2, 4), 0.0);
    assert!(
        rep.warnings
            .iter()
            .any(|w| w.contains("common 15 × 10 cells")),
        "{:?}",
        rep.warnings
    );
}

#[test]
fn transition_raster_codes_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 590_000.0, 3_900_000.0, 30.0, 300, 260);
    let (b, a) = (dir.path().join("b.tif"), dir.path().join("a.tif"));
    write_raster::<u8>(&b, &g, Some(0.0), |c, _| if c < 150 { 2 } else { 1 });
    write_raster::<u8>(&a, &g, Some(0.0), |c, r| {
        if r == 7 {
            0
        } else if c < 100 {
            2
        } else {
            7
        }
    });
    let zones = dir.path().join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("z", vec![pixel_rect(&g, 10.0, 10.0, 20.0, 20.0)])],
        ),
    )
    .unwrap();
    let out = dir.path().join("t.tif");
    let layer = ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap();
    land_cover_change(
        &open(&b),
        &open(&a),
        &layer,
        &Legend::builtin("clcd").unwrap(),
        &RunOptions::default(),
        Some(&ChangeRaster { path: out.clone() }),
    )
    .unwrap();
    let coding = TransitionCoding::for_legend(&Legend::builtin("clcd").unwrap());
    assert_eq!(coding.factor, 10);
    let ds = gdal::Dataset::open(&out).unwrap();
    let band = ds.rasterband(1).unwrap();
    assert_eq!(band.no_data_value(), Some(255.0));
    let data = band
        .read_as::<u8>((0, 0), (300, 260), (300, 260), None)
        .unwrap();
    let px = |c: usize, r: usize| data.data()[r * 300 + c];
    assert_eq!(px(50, 0), 22); // forest → forest
    assert_eq!(px(120, 0), 27); // forest → barren
    assert_eq!(px(200, 250), 17); // cropland → barren
    assert_eq!(px(200, 7), 255); // nodata after
    // Far from the zone too: the raster covers the whole grid.
    assert_eq!(px(299, 259), 17);
    use gdal::Metadata;
    assert_eq!(
        ds.metadata_item("TRANSITION_27", ""),
        Some("Forest -> Barren".to_string())
    );
    assert_eq!(ds.geo_transform().unwrap(), g.transform.0);
}

/// `change` on tile lists and `batch --after-tiles` pair the tiles of two
/// dates by one rule: an after tile whose origin differs by rounding
/// (1e-9 of a cell) still pairs, in any order, and both give the same
/// transitions; a tile shifted by a quarter of a cell is refused by both.
#[test]
fn change_and_batch_pair_tile_sets_alike() {
    use qingshan::batch::{Batch, BatchConfig, Merged, OverlapPolicy, ZoneInput, merge};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let left = grid(4545, 590_000.0, 3_900_000.0, 30.0, 20, 12);
    let right = grid(4545, 590_600.0, 3_900_000.0, 30.0, 20, 12);
    let before = [d.join("b_l.tif"), d.join("b_r.tif")];
    write_raster::<u8>(&before[0], &left, None, |c, _| 1 + (c % 2) as u8);
    write_raster::<u8>(&before[1], &right, None, |_, r| 2 + (r % 2) as u8);
    let nudged = grid(4545, 590_600.0 + 30.0 * 1e-9, 3_900_000.0, 30.0, 20, 12);
    let shifted = grid(4545, 590_607.5, 3_900_000.0, 30.0, 20, 12);
    // Listed right tile first.
    let after_ok = [d.join("a_r.tif"), d.join("a_l.tif")];
    write_raster::<u8>(&after_ok[0], &nudged, None, |c, _| 4 + (c % 3) as u8);
    write_raster::<u8>(&after_ok[1], &left, None, |_, _| 2);
    let after_bad = [d.join("a_l.tif"), d.join("s_r.tif")];
    write_raster::<u8>(&after_bad[1], &shifted, None, |_, _| 2);
    let zones = d.join("z.geojson");
    std::fs::write(
        &zones,
        geojson(
            Some(4545),
            &[("z", vec![pixel_rect(&left, 3.5, 2.25, 37.75, 11.0)])],
        ),
    )
    .unwrap();
    let legend = Legend::builtin("clcd").unwrap();
    let opts = RunOptions {
        threads: Some(2),
        progress: None,
    };
    let strs = |p: &[std::path::PathBuf]| -> Vec<String> {
        p.iter().map(|p| p.display().to_string()).collect()
    };
    let layer = ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap();
    let change = |after: &[std::path::PathBuf]| {
        land_cover_change(
            &LandCover::open(&strs(&before), 1)
                .unwrap()
                .with_area(AreaMode::Planar),
            &LandCover::open(&strs(after), 1)
                .unwrap()
                .with_area(AreaMode::Planar),
            &layer,
            &legend,
            &opts,
            None,
        )
    };
    let batch = |after: &[std::path::PathBuf], out: &str| -> qingshan::Result<ChangeReport> {
        let out = d.join(out);
        Batch::prepare(
            BatchConfig {
                tiles: before.to_vec(),
                after_tiles: Some(after.to_vec()),
                band: 1,
                out_dir: out.clone(),
                shard: None,
                resume: false,
                overlap: OverlapPolicy::Refuse,
                area: AreaMode::Planar,
            },
            ZoneInput::File(zones.clone(), ZoneOptions::default()),
            legend.clone(),
            &opts,
        )?
        .run(&opts)?;
        match merge(&[out])?.1 {
            Merged::Change(r) => Ok(r),
            Merged::Stats(_) => panic!("a change batch merged to stats"),
        }
    };
    let c = change(&after_ok).unwrap();
    let b = batch(&after_ok, "ok").unwrap();
    assert_eq!(c.zones[0].transitions, b.zones[0].transitions);
    // Worked out cell by cell: the zone covers columns 3.5..37.75 of the
    // two tiles side by side and rows 2.25..11; each cell counts with its
    // overlap.
    let overlap = |i: usize, lo: f64, hi: f64| (hi.min(i as f64 + 1.0) - lo.max(i as f64)).max(0.0);
    let mut expected: std::collections::BTreeMap<i64, std::collections::BTreeMap<i64, f64>> =
        Default::default();
    for r in 0..12 {
        for c in 0..40 {
            let w = overlap(c, 3.5, 37.75) * overlap(r, 2.25, 11.0) * 900.0;
            if w == 0.0 {
                continue;
            }
            let (from, to) = if c < 20 {
                (1 + (c % 2) as i64, 2)
            } else {
                (2 + (r % 2) as i64, 4 + ((c - 20) % 3) as i64)
            };
            *expected.entry(from).or_default().entry(to).or_default() += w;
        }
    }
    let got = &c.zones[0].transitions;
    assert_eq!(
        got.iter()
            .map(|(f, r)| (
                f.as_int().unwrap(),
                r.keys().map(|k| k.as_int().unwrap()).collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|(f, r)| (*f, r.keys().copied().collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
    for (f, row) in &expected {
        for (t, area) in row {
            assert_relative_eq!(got[&(*f).into()][&(*t).into()], *area, max_relative = 1e-12);
        }
    }
    for e in [
        change(&after_bad).unwrap_err(),
        batch(&after_bad, "bad").unwrap_err(),
    ] {
        let msg = e.to_string();
        assert!(
            msg.contains("s_r.tif") && msg.contains("not aligned"),
            "{msg}"
        );
    }
}
