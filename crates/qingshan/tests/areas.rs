//! True ground areas (the default `--area ellipsoidal`) on projected
//! rasters, against Karney's geodesic polygon areas of the same zones.

mod common;

use approx::assert_relative_eq;
use common::{geojson, grid, pixel_rect, write_raster};
use geo::BooleanOps;
use qingshan::RunOptions;
use qingshan::area::AreaMode;
use qingshan::legend::{ClassCode, Legend};
use qingshan::raster::LandCover;
use qingshan::zonal::zonal_stats;
use qingshan::zones::{ZoneLayer, ZoneOptions};

/// Karney's geodesic area of a polygon given in EPSG:4545, its edges
/// densified to 10 m so that they stay the straight lines they are there.
fn karney_of_gk(mp: &geo::MultiPolygon<f64>) -> f64 {
    let gk = qingshan::crs_from_epsg(4545).unwrap();
    let layer = ZoneLayer {
        path: "ref".into(),
        crs: gk,
        zones: vec![qingshan::zones::Zone {
            index: 0,
            id: "ref".into(),
            name: None,
            attributes: Default::default(),
            geometry: common::densify(mp, 10.0),
        }],
        repairs: vec![],
        ids: qingshan::zones::IdScheme::Index,
    };
    let ll = layer
        .project(&qingshan::crs_from_epsg(4490).unwrap(), None)
        .unwrap()
        .remove(0);
    qingshan::area::Ellipsoid::GRS80.multipolygon_area(&ll)
}

/// Ellipsoidal (the default) class areas on a Gauss–Krüger raster 240 km
/// from its central meridian, where planar areas are 0.07 % too large:
/// a rectangle offset by fractions of a cell over two classes, each class
/// area against Karney's area of the zone clipped to the class's columns.
#[test]
fn ellipsoidal_class_areas_match_karney_on_a_projected_raster() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4545, 260_000.0, 3_900_000.0, 30.0, 200, 150);
    let tif = dir.path().join("lc.tif");
    write_raster::<u8>(&tif, &g, None, |c, _| if c < 100 { 1 } else { 2 });
    let zones = dir.path().join("z.geojson");
    let rect = pixel_rect(&g, 10.3, 5.7, 180.6, 140.2);
    std::fs::write(&zones, geojson(Some(4545), &[("r", vec![rect.clone()])])).unwrap();
    let lc = LandCover::open(&[tif.to_str().unwrap()], 1).unwrap();
    assert_eq!(lc.area, AreaMode::Ellipsoidal);
    let layer = ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap();
    let legend = Legend::load("clcd").unwrap();
    let rep = zonal_stats(&lc, &layer, &legend, &RunOptions::default()).unwrap();
    let z = &rep.zones[0];
    assert_eq!(rep.area, AreaMode::Ellipsoidal);
    let poly = |pts: &[(f64, f64)]| {
        geo::MultiPolygon(vec![geo::Polygon::new(pts.to_vec().into(), vec![])])
    };
    let zone = poly(&rect);
    let left = pixel_rect(&g, 0.0, 0.0, 100.0, 150.0);
    let class1 = zone.intersection(&poly(&left));
    let (k_all, k1) = (karney_of_gk(&zone), karney_of_gk(&class1));
    // Zone areas densify edges to 1 km (documented within 1e-8).
    assert_relative_eq!(z.zone_area_m2, k_all, max_relative = 1e-8);
    assert_relative_eq!(z.valid_area_m2, k_all, max_relative = 1e-9);
    assert_relative_eq!(z.classes[&ClassCode::int(1)], k1, max_relative = 1e-9);
    assert_relative_eq!(
        z.classes[&ClassCode::int(2)],
        k_all - k1,
        max_relative = 1e-9
    );
    // Planar areas are the hand-worked ones, 0.07 % larger.
    let planar = zonal_stats(
        &lc.clone().with_area(AreaMode::Planar),
        &layer,
        &legend,
        &RunOptions::default(),
    )
    .unwrap();
    let want1 = (100.0 - 10.3) * (140.2 - 5.7) * 900.0;
    assert_relative_eq!(
        planar.zones[0].classes[&ClassCode::int(1)],
        want1,
        max_relative = 1e-12
    );
    assert!(
        planar.zones[0].classes[&ClassCode::int(1)] / z.classes[&ClassCode::int(1)] - 1.0 > 5e-4
    );
    assert_eq!(planar.area, AreaMode::Planar);
}

/// A raster in Web Mercator (EPSG:3857) at 35°N: planar cell areas are
/// about 49 % larger than the ground; ellipsoidal areas are the zone's
/// geodesic area, and a zone area beside them agrees.
#[test]
fn web_mercator_rasters_measure_ground_areas() {
    let dir = tempfile::tempdir().unwrap();
    // About 108.9–109.2°E, 35.0–35.25°N in 3857, 50 m cells.
    let g = grid(3857, 12_122_000.0, 4_200_000.0, 50.0, 700, 700);
    let tif = dir.path().join("lc.tif");
    write_raster::<u8>(&tif, &g, None, |_, _| 2);
    // A 12 × 10 km square in EPSG:4545 inside it.
    let (x0, y0) = (590_000.0, 3_880_000.0);
    let sq = vec![
        (x0, y0),
        (x0 + 12_000.0, y0),
        (x0 + 12_000.0, y0 + 10_000.0),
        (x0, y0 + 10_000.0),
        (x0, y0),
    ];
    let zones = dir.path().join("z.geojson");
    std::fs::write(&zones, geojson(Some(4545), &[("sq", vec![sq.clone()])])).unwrap();
    let lc = LandCover::open(&[tif.to_str().unwrap()], 1).unwrap();
    let layer = ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap();
    let legend = Legend::load("clcd").unwrap();
    let rep = zonal_stats(&lc, &layer, &legend, &RunOptions::default()).unwrap();
    let z = &rep.zones[0];
    let k = karney_of_gk(&geo::MultiPolygon(vec![geo::Polygon::new(
        sq.into(),
        vec![],
    )]));
    assert_relative_eq!(z.zone_area_m2, k, max_relative = 1e-8);
    // The zone's edges are densified to a cell before projection: chords
    // of 50 m leave well under 1e-8.
    assert_relative_eq!(z.valid_area_m2, k, max_relative = 1e-8);
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    let planar = zonal_stats(
        &lc.with_area(AreaMode::Planar),
        &layer,
        &legend,
        &RunOptions::default(),
    )
    .unwrap();
    let ratio = planar.zones[0].valid_area_m2 / k;
    assert!((1.45..1.55).contains(&ratio), "{ratio}");
}

/// A lon/lat zone's edges are straight in lon/lat (as every GIS draws
/// them), not geodesics: a 20° × 20° box's area is the area under its
/// parallels (it came out 0.02 % large; a ±10° box 1 %), against Karney's
/// area of the box densified to 0.001°.
#[test]
fn lonlat_zones_follow_their_parallels() {
    let dir = tempfile::tempdir().unwrap();
    let g = grid(4326, 99.0, 46.0, 0.5, 44, 44);
    let tif = dir.path().join("ll.tif");
    write_raster::<u8>(&tif, &g, None, |_, _| 2);
    let ring = vec![
        (100.0, 25.0),
        (120.0, 25.0),
        (120.0, 45.0),
        (100.0, 45.0),
        (100.0, 25.0),
    ];
    let zones = dir.path().join("z.geojson");
    std::fs::write(&zones, geojson(None, &[("box", vec![ring.clone()])])).unwrap();
    let lc = LandCover::open(&[tif.to_str().unwrap()], 1).unwrap();
    let layer = ZoneLayer::read(&zones, &ZoneOptions::default()).unwrap();
    let rep = zonal_stats(
        &lc,
        &layer,
        &Legend::load("clcd").unwrap(),
        &RunOptions::default(),
    )
    .unwrap();
    let box_ = geo::MultiPolygon(vec![geo::Polygon::new(ring.into(), vec![])]);
    let want = qingshan::area::Ellipsoid::WGS84.multipolygon_area(&common::densify(&box_, 1e-3));
    let z = &rep.zones[0];
    assert_relative_eq!(z.zone_area_m2, want, max_relative = 1e-8);
    // The box is on whole cells: the class area is the same area.
    assert_relative_eq!(z.valid_area_m2, want, max_relative = 1e-8);
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
}
