//! A series is its dates: every date's numbers equal what `zonal_stats`
//! and `values` give for that date alone, whatever order the dates come
//! in; dates given twice and series with nothing to measure are refused.

mod common;

use common::fixture;
use qingshan::RunOptions;
use qingshan::legend::Legend;
use qingshan::raster::LandCover;
use qingshan::raster::values::{ScaleOffset, ValueRaster};
use qingshan::series::{SeriesInputs, series};
use qingshan::values::{Stat, values};
use qingshan::zonal::zonal_stats;
use qingshan::zones::{ZoneLayer, ZoneOptions};

fn lc(name: &str) -> LandCover {
    LandCover::open(&[fixture(name).display().to_string()], 1).unwrap()
}

fn ndvi(year: u16) -> ValueRaster {
    ValueRaster::open_values(
        &[fixture(&format!("ndvi/ndvi_{year}.tif"))
            .display()
            .to_string()],
        1,
        ScaleOffset::File,
    )
    .unwrap()
}

fn towns() -> ZoneLayer {
    ZoneLayer::read(&fixture("towns.geojson"), &ZoneOptions::default()).unwrap()
}

#[test]
fn each_date_equals_the_single_date_run_in_any_order() {
    let clcd = Legend::builtin("clcd").unwrap();
    let towns = towns();
    // Given out of order: the series sorts them.
    let landcover = vec![
        ("2024".to_string(), lc("landcover/clcd_2024.vrt")),
        ("2019".to_string(), lc("landcover/clcd_2019.vrt")),
        ("2021".to_string(), lc("landcover/series/clcd_2021.tif")),
    ];
    let rasters = vec![
        ("2024".to_string(), ndvi(2024)),
        ("2019".to_string(), ndvi(2019)),
    ];
    let stats = Stat::parse_list("mean,median,q10").unwrap();
    let opts = RunOptions::default();
    let r = series(
        &SeriesInputs {
            zones: &towns,
            landcover: &landcover,
            legend: Some(&clcd),
            rasters: &rasters,
            values_name: Some("NDVI"),
            stats: &stats,
            tuning: Default::default(),
        },
        &opts,
    )
    .unwrap();
    assert_eq!(r.dates, ["2019", "2021", "2024"]);
    let lc_dates: Vec<&str> = r.landcover.iter().map(|s| s.date.as_str()).collect();
    assert_eq!(lc_dates, ["2019", "2021", "2024"]);
    for (date, l) in &landcover {
        let single = zonal_stats(l, &towns, &clcd, &opts).unwrap();
        for (z, s) in r.zones.iter().zip(&single.zones) {
            let at = &z.landcover[date];
            assert_eq!(at.classes, s.classes, "{date} {}", z.id);
            assert_eq!(at.forest_cover, s.forest_cover);
            assert_eq!(at.valid_area_m2, s.valid_area_m2);
            assert_eq!(z.zone_area_m2, s.zone_area_m2);
        }
    }
    for (date, v) in &rasters {
        let single = values(v, &towns, &stats, &opts).unwrap();
        for (z, s) in r.zones.iter().zip(&single.zones) {
            assert_eq!(z.values[date].stats, s.stats, "{date} {}", z.id);
        }
    }
    // The mine and the town's growth lower Azhuang's NDVI; the series
    // shows it in date order.
    let az = r.zones.iter().find(|z| z.id == "azhuang").unwrap();
    let means = az.value("mean");
    assert_eq!(
        means.iter().map(|m| m.0).collect::<Vec<_>>(),
        ["2019", "2024"]
    );
    assert!(means[1].1.unwrap() < means[0].1.unwrap(), "{means:?}");
    assert_eq!(az.forest_cover().len(), 3);
}

#[test]
fn twice_the_same_date_or_nothing_to_measure_is_refused() {
    let clcd = Legend::builtin("clcd").unwrap();
    let towns = towns();
    let twice = vec![
        ("2019".to_string(), lc("landcover/clcd_2019.vrt")),
        ("2019".to_string(), lc("landcover/clcd_2024.vrt")),
    ];
    let input = |landcover| SeriesInputs {
        zones: &towns,
        landcover,
        legend: Some(&clcd),
        rasters: &[],
        values_name: None,
        stats: &[],
        tuning: Default::default(),
    };
    let e = series(&input(&twice), &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"2019\" is given twice"), "{e}");
    let e = series(&input(&[]), &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no date to measure"), "{e}");
}
