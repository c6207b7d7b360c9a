//! Command-line arguments (clap). Usage errors exit with code 2.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use qingshan::area::AreaMode;
use qingshan::batch::OverlapPolicy;
use qingshan::export::Format;
use qingshan::report::Lang;
use qingshan::zones::ZoneOptions;

/// qingshan (青山): exact land-cover areas and ecological red-line audits of
/// mountain zones from land-cover rasters.
///
/// Exit codes: 0 success, 1 error (bad input, I/O), 2 usage, 3 a check failed.
#[derive(Parser, Debug)]
#[command(
    name = "qingshan",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success, 1 error (bad input, I/O), 2 usage, 3 a check failed."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Exact area of each land-cover class, forest area and forest cover per zone.
    Stats(StatsArgs),
    /// Land-cover change between two dates: per-zone transition matrices, forest gain and loss.
    Change(ChangeArgs),
    /// Ecological red lines: did the area shrink (diff), did nature or function change (check)?
    #[command(subcommand)]
    Redline(RedlineCommand),
    /// Slope grades from a DEM per zone (Horn, as gdaldem), land cover on steep slopes,
    /// and the grade of each cropland polygon (退耕还林: cropland on slopes > 25°).
    Slope(SlopeArgs),
    /// Coverage-weighted statistics of a continuous raster (NDVI, NPP, …) per zone:
    /// count, sum, mean, min, max, stddev, median, quantiles; valid and nodata areas.
    Values(ValuesArgs),
    /// Many dates in one run: forest cover per zone for every year of a land-cover series,
    /// statistics of a value raster (mean NDVI) per date, and line charts (SVG, PNG).
    Series(SeriesArgs),
    /// Stats (or change) over hundreds of tiles: resumable per-tile partials, shards, one output.
    Batch(BatchArgs),
    /// Combines the partials of batch shards into the final stats or change output.
    Merge(MergeArgs),
    /// Checks a plan's targets (forest cover, forest land, red lines) and writes audit.json and the report.
    /// Exit 3 when a target is missed.
    Audit(AuditArgs),
    /// Renders the HTML report of an audit (audit.json) with its maps.
    Report(ReportArgs),
    /// Runs the audit on the bundled synthetic fixtures (Jinsuoguan and Azhuang towns) and shows the report.
    Demo(DemoArgs),
}

impl Command {
    /// Where and how the command writes its one result (`--format`, `-o`),
    /// for the commands that write one.
    pub fn output(&self) -> Option<&OutputArgs> {
        match self {
            Command::Stats(a) => Some(&a.out),
            Command::Change(a) => Some(&a.out),
            Command::Redline(RedlineCommand::Diff(a)) => Some(&a.out),
            Command::Redline(RedlineCommand::Check(a)) => Some(&a.out),
            Command::Slope(a) => Some(&a.out),
            Command::Values(a) => Some(&a.out),
            Command::Series(a) => Some(&a.out),
            Command::Merge(a) => Some(&a.out),
            Command::Batch(_) | Command::Audit(_) | Command::Report(_) | Command::Demo(_) => None,
        }
    }
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The audit file (TOML): inputs and targets.
    #[arg(long, value_name = "AUDIT.toml")]
    pub config: PathBuf,
    /// Output directory: the audit bundle (audit.json, the PNG maps, report.html, bundle.json).
    #[arg(short, long, default_value = "qingshan-audit", value_name = "DIR")]
    pub out: PathBuf,
    /// Report language (default zh: Chinese with English subtitles).
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Longest side of the report's maps, in pixels.
    #[arg(long, default_value_t = 900, value_name = "PX")]
    pub map_size: usize,
    /// Areas on the ellipsoid or in the projected plane (default: the config's `area`, else ellipsoidal).
    #[arg(long, value_enum)]
    pub area: Option<AreaMode>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The audit document (audit.json written by `qingshan audit`; the maps
    /// beside it are read too, the audit's inputs are not needed).
    #[arg(long, value_name = "audit.json")]
    pub audit: PathBuf,
    /// Output HTML file.
    #[arg(short, long, default_value = "report.html", value_name = "FILE")]
    pub output: PathBuf,
    /// Report language (default zh: Chinese with English subtitles).
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Gone: the maps are drawn when the audit runs (`audit --map-size`).
    #[arg(long, hide = true, value_name = "PX")]
    pub map_size: Option<String>,
}

#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Tiles: directories (searched recursively), glob patterns, LIST.txt files or rasters.
    #[arg(long, value_name = "DIR|GLOB|LIST.txt", num_args = 1.., required = true)]
    pub tiles: Vec<String>,
    /// Tiles of a second date (same grids, one to one): the run computes change.
    #[arg(long, value_name = "DIR|GLOB|LIST.txt", num_args = 1..)]
    pub after_tiles: Option<Vec<String>>,
    /// Zones: GeoJSON, Shapefile, GeoPackage or any OGR vector format.
    #[arg(long, value_name = "FILE", required_unless_present = "read_only")]
    pub zones: Option<PathBuf>,
    #[command(flatten)]
    pub layer: LayerArgs,
    #[command(flatten)]
    pub classes: ClassArgs,
    /// Output directory: run.json, partials/, and (unsharded) stats.json or change.json and tiles_qa.csv.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Process only tiles I, I+N, I+2N, … (0 ≤ I < N); combine shards with `qingshan merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Skip tiles whose partial is already complete (after an interruption).
    #[arg(long)]
    pub resume: bool,
    /// Where tiles overlap.
    #[arg(long, value_enum, default_value = "refuse")]
    pub overlap: OverlapPolicy,
    /// Only read every block of every tile (a decode check and benchmark); no zones needed.
    #[arg(long)]
    pub read_only: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Batch output directories (or their run.json and partial files).
    #[arg(value_name = "PARTIAL", num_args = 1.., required = true)]
    pub partials: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Also write the per-tile QA table (CSV).
    #[arg(long, value_name = "FILE.csv")]
    pub qa: Option<PathBuf>,
}

// Parsed once per run: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum RedlineCommand {
    /// Compares two versions of the red-line layer: totals, lost and gained area, per polygon and per town.
    /// Exit 3 when the red line shrank (or, with --strict, lost area anywhere).
    Diff(DiffArgs),
    /// Inside each red-line polygon: natural → artificial conversion (nature) and vegetated share (function)
    /// between two dates. Exit 3 when a polygon violates a limit.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old (baseline) red-line layer: GeoJSON, Shapefile, GeoPackage, …
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The new red-line layer (may be in another CRS).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Attribute holding the red-line id in both layers (default: the feature id, else the index).
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// Also report totals per town (or any zone) of this layer.
    #[arg(long, value_name = "FILE")]
    pub towns: Option<PathBuf>,
    /// Attribute holding the town id (default: the feature id, else the index).
    #[arg(long, value_name = "FIELD")]
    pub towns_id_field: Option<String>,
    /// Areas within this many m² count as equal.
    #[arg(long, default_value_t = 1.0, value_name = "M2")]
    pub tolerance_m2: f64,
    /// Fail (exit 3) when any area is lost, even if compensated elsewhere.
    #[arg(long)]
    pub strict: bool,
    /// Areas on the ellipsoid, or planar in the CRS the polygons are overlaid in (the old layer's if projected).
    #[arg(long, value_enum, default_value = "ellipsoidal")]
    pub area: AreaMode,
    /// Repair invalid polygons with GEOS MakeValid instead of failing.
    #[arg(long)]
    pub make_valid: bool,
    /// Text encoding of shapefile attributes, e.g. GBK (default: the .cpg; text that is not UTF-8 is read as GBK, with a warning).
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Write the lost pieces (old ∖ new) with their red-line id as GeoJSON.
    #[arg(long, value_name = "LOST.geojson")]
    pub lost_geometry: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The red-line layer.
    #[arg(long, value_name = "FILE")]
    pub redlines: PathBuf,
    /// Land cover of the first date.
    #[arg(long, value_name = "RASTER", num_args = 1.., required_unless_present = "before_landuse", conflicts_with = "before_landuse")]
    pub before: Vec<String>,
    /// Land cover of the second date, on the same grid.
    #[arg(long, value_name = "RASTER", num_args = 1.., required_unless_present = "after_landuse", conflicts_with = "after_landuse")]
    pub after: Vec<String>,
    #[command(flatten)]
    pub landuse: LandUseVersions,
    #[command(flatten)]
    pub layer: LayerArgs,
    #[command(flatten)]
    pub classes: ClassArgs,
    /// Largest natural → artificial conversion allowed per red-line polygon (m²).
    #[arg(long, default_value_t = 0.0, value_name = "M2")]
    pub max_conversion_m2: f64,
    /// Largest allowed drop of the vegetated share (fraction: 0.01 = one percentage point).
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION")]
    pub max_vegetation_loss: f64,
    /// Write each connected converted patch as a polygon (GeoJSON) with its red-line id, type and area; with land use, every converted piece (.gpkg, .shp, .geojson, .csv, .xlsx, as --change-list).
    #[arg(long, value_name = "PATCHES.geojson")]
    pub patches: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// Land cover of the first date (files, VRTs, directories, globs).
    #[arg(long, value_name = "RASTER", num_args = 1.., required_unless_present = "before_landuse", conflicts_with = "before_landuse")]
    pub before: Vec<String>,
    /// Land cover of the second date, on the same grid.
    #[arg(long, value_name = "RASTER", num_args = 1.., required_unless_present = "after_landuse", conflicts_with = "after_landuse")]
    pub after: Vec<String>,
    #[command(flatten)]
    pub landuse: LandUseVersions,
    /// Write every piece whose class changed (zone, ids, codes and names before and after, m², ha, mu, centroid): .gpkg, .shp (GBK), .geojson, .csv or .xlsx.
    #[arg(long, value_name = "FILE", requires = "before_landuse")]
    pub change_list: Option<PathBuf>,
    #[command(flatten)]
    pub zones: ZoneArgs,
    #[command(flatten)]
    pub classes: ClassArgs,
    /// Also write a GeoTIFF coding each cell's transition as from × 10ⁿ + to (rasters only; with land use, --change-list).
    #[arg(long, value_name = "OUT.tif", conflicts_with = "before_landuse")]
    pub change_raster: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct SlopeArgs {
    /// The DEM: files, VRTs, directories or glob patterns of tiles on one grid (any numeric type; heights in metres, or in the unit the band records: ft, cm, …).
    #[arg(long, value_name = "RASTER", num_args = 1.., required = true)]
    pub dem: Vec<String>,
    /// Raster band holding the heights.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub dem_band: usize,
    #[command(flatten)]
    pub zones: ZoneArgs,
    /// Land cover (same CRS as the DEM, any grid): area of each class in each grade.
    #[arg(long, value_name = "RASTER", num_args = 1..)]
    pub landcover: Option<Vec<String>>,
    #[command(flatten)]
    pub classes: ClassArgs,
    /// Cropland polygons (e.g. the land survey's DLTB): each gets the grade holding most of its area.
    #[arg(long, value_name = "FILE")]
    pub cropland: Option<PathBuf>,
    /// Field of --cropland holding each polygon's class (e.g. DLBM); without it every polygon is cropland.
    #[arg(long, value_name = "FIELD")]
    pub class_field: Option<String>,
    /// Class codes that are cropland (default with --class-field: 0101,0102,0103; 0101A matches 0101).
    #[arg(long, value_name = "C,…", value_delimiter = ',')]
    pub cropland_codes: Vec<String>,
    /// Field of --cropland holding each polygon's id (default: the feature id, else the index).
    #[arg(long, value_name = "FIELD")]
    pub cropland_id_field: Option<String>,
    /// Layer of --cropland (default: the first).
    #[arg(long, value_name = "NAME")]
    pub cropland_layer: Option<String>,
    /// Upper bounds of the slope grades in degrees (each bound belongs to the grade below it).
    #[arg(long, default_value = "2,6,15,25", value_name = "DEG,…")]
    pub grades: String,
    /// Also write the slope (Float32 degrees, the DEM's grid) as a GeoTIFF.
    #[arg(long, value_name = "OUT.tif")]
    pub slope_raster: Option<PathBuf>,
    /// Write the cropland polygons on the steepest grade (.gpkg, .shp in GBK, or .geojson), with a .csv list beside it.
    #[arg(long, value_name = "OUT.gpkg")]
    pub steep_cropland: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct ValuesArgs {
    /// The raster: files, VRTs, directories or glob patterns of tiles on one grid (any numeric type).
    #[arg(long, value_name = "RASTER", num_args = 1.., required = true)]
    pub raster: Vec<String>,
    /// Raster band holding the values.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub band: usize,
    #[command(flatten)]
    pub zones: ZoneArgs,
    /// Statistics: count, sum, mean, min, max, variance, stddev, cv, median, qN (q10, q2.5, q90).
    #[arg(long, default_value = qingshan::values::DEFAULT_STATS, value_name = "S,…")]
    pub stats: String,
    /// How stored numbers become values: file (the band's own scale and offset, the default), none, or SCALE,OFFSET (0.0001,0 for NDVI stored × 10000).
    #[arg(long, default_value = "file", value_name = "file|none|S,O")]
    pub scale_offset: String,
    /// Cells weighted by coverage × ground area on the ellipsoid, or by coverage alone on a projected grid (planar: exactextract's weights).
    #[arg(long, value_enum, default_value = "ellipsoidal")]
    pub area: AreaMode,
    /// Memory for the zones' distinct values (median, quantiles) before they spill to a scratch file; merging may briefly take twice this.
    #[arg(long, default_value_t = 256, value_name = "MB")]
    pub quantile_memory_mb: usize,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct SeriesArgs {
    /// Land cover per date: DATE=RASTER (a file, VRT, directory, glob or list of tiles), e.g. 2019=clcd_2019.tif.
    #[arg(long, value_name = "DATE=RASTER", num_args = 1..)]
    pub landcover: Vec<String>,
    /// A continuous raster per date (NDVI, NPP): DATE=RASTER.
    #[arg(long, value_name = "DATE=RASTER", num_args = 1..)]
    pub raster: Vec<String>,
    /// What the rasters hold, for outputs and charts (e.g. NDVI).
    #[arg(long, value_name = "NAME")]
    pub raster_name: Option<String>,
    /// Band of the rasters.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub raster_band: usize,
    /// Statistics of the rasters (as `qingshan values --stats`).
    #[arg(long, default_value = "mean", value_name = "S,…")]
    pub stats: String,
    /// How the rasters' stored numbers become values: file, none, or SCALE,OFFSET.
    #[arg(long, default_value = "file", value_name = "file|none|S,O")]
    pub scale_offset: String,
    /// Memory for the zones' distinct values (median, quantiles) before they spill to a scratch file.
    #[arg(long, default_value_t = 256, value_name = "MB")]
    pub quantile_memory_mb: usize,
    #[command(flatten)]
    pub zones: ZoneArgs,
    #[command(flatten)]
    pub classes: ClassArgs,
    /// Write line charts (SVG and PNG) into this directory: forest_cover, and one per statistic of the rasters.
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
    /// Forest-cover target drawn on the forest-cover chart, as a fraction (0.47 for 47 %).
    #[arg(long, value_name = "FRACTION")]
    pub target_cover: Option<f64>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The fixtures directory (default: the repository's fixtures/).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// Where to write the demo's outputs.
    #[arg(short, long, default_value = "qingshan-demo", value_name = "DIR")]
    pub out: PathBuf,
    /// Report language (default zh: Chinese with English subtitles).
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// The zones of a command.
#[derive(Args, Debug, Clone)]
pub struct ZoneArgs {
    /// Zones: GeoJSON, Shapefile, GeoPackage or any OGR vector format.
    #[arg(long, value_name = "FILE")]
    pub zones: PathBuf,
    #[command(flatten)]
    pub layer: LayerArgs,
}

/// How a zone layer is read.
#[derive(Args, Debug, Clone)]
pub struct LayerArgs {
    /// Attribute holding each polygon's id (default: the feature id, else the index).
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// Attribute holding each polygon's name (default: name, NAME, Name or 名称).
    #[arg(long, value_name = "FIELD")]
    pub name_field: Option<String>,
    /// Layer of a multi-layer vector source (default: the first).
    #[arg(long, value_name = "NAME")]
    pub layer: Option<String>,
    /// Repair invalid polygons with GEOS MakeValid instead of failing.
    #[arg(long)]
    pub make_valid: bool,
    /// Text encoding of a shapefile's attributes, e.g. GBK (default: its .cpg; text that is not UTF-8 is read as GBK, with a warning).
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
}

/// How the land-cover classes are read.
#[derive(Args, Debug, Clone)]
pub struct ClassArgs {
    /// Class scheme: clcd, worldcover, globeland30, dynamicworld, sandiao (the land survey's codes), or a TOML file [default: clcd; sandiao with --landuse].
    #[arg(long, value_name = "NAME|FILE.toml")]
    pub legend: Option<String>,
    /// Raster band holding the classes.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub band: usize,
    /// Areas on the ellipsoid (ground areas, as official surveys measure) or in the projected plane (what exactextract and GRASS report).
    #[arg(long, value_enum, default_value = "ellipsoidal")]
    pub area: AreaMode,
}

/// Where and how a command writes its one result.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format (default: from the -o extension — .csv, .geojson, .txt for a table, .xlsx — else json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Output file (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ClassArgs {
    /// The legend asked for, else `default`.
    pub fn legend_or(&self, default: &str) -> String {
        self.legend.clone().unwrap_or_else(|| default.to_string())
    }
}

impl OutputArgs {
    /// The output path (`-`: standard output).
    pub fn path(&self) -> PathBuf {
        self.output.clone().unwrap_or_else(|| PathBuf::from("-"))
    }

    /// The format asked for, else the one `-o`'s extension names.
    pub fn format(&self) -> Format {
        Format::resolve(self.format, self.output.as_deref())
    }
}

/// How a computation runs.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar, no summary line on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Two versions of a land-use layer instead of two land-cover rasters.
#[derive(Args, Debug, Clone)]
pub struct LandUseVersions {
    /// Land-use polygons of the first date (三调 DLTB) instead of --before.
    #[arg(long, value_name = "FILE", requires = "after_landuse")]
    pub before_landuse: Option<PathBuf>,
    /// Land-use polygons of the second date instead of --after.
    #[arg(long, value_name = "FILE", requires = "before_landuse")]
    pub after_landuse: Option<PathBuf>,
    /// The land-use field of class codes (e.g. DLBM), in both versions.
    #[arg(long, value_name = "FIELD", requires = "before_landuse")]
    pub class_field: Option<String>,
    /// The land-use layer (default: the first), in both versions.
    #[arg(long, value_name = "NAME", requires = "before_landuse")]
    pub landuse_layer: Option<String>,
    /// The land-use field of polygon ids (default: BSM when present, else the FID).
    #[arg(long, value_name = "FIELD", requires = "before_landuse")]
    pub landuse_id_field: Option<String>,
}

impl LandUseVersions {
    /// The library's sources of both versions, when given.
    pub fn sources(
        &self,
        encoding: Option<String>,
    ) -> Option<(
        qingshan::commands::LandUseSource,
        qingshan::commands::LandUseSource,
    )> {
        let source = |path: &PathBuf| qingshan::commands::LandUseSource {
            path: path.clone(),
            options: qingshan::landuse::LandUseOptions {
                class_field: self.class_field.clone().unwrap_or_default(),
                layer: self.landuse_layer.clone(),
                area_field: None,
                id_field: self.landuse_id_field.clone(),
                encoding: encoding.clone(),
                forest_flag_field: None,
            },
        };
        Some((
            source(self.before_landuse.as_ref()?),
            source(self.after_landuse.as_ref()?),
        ))
    }
}

/// Land use as polygons (the survey's DLTB) instead of a land-cover raster.
#[derive(Args, Debug, Clone)]
pub struct LandUseArgs {
    /// Land-use polygons (三调 DLTB: GeoPackage, Shapefile, …) instead of --landcover.
    #[arg(long, value_name = "FILE")]
    pub landuse: Option<PathBuf>,
    /// The land-use field of class codes (e.g. DLBM).
    #[arg(long, value_name = "FIELD", requires = "landuse")]
    pub class_field: Option<String>,
    /// The land-use layer (default: the first).
    #[arg(long, value_name = "NAME", requires = "landuse")]
    pub landuse_layer: Option<String>,
    /// Report each polygon's recorded area from this field (m², e.g. TBDLMJ), split across zones in proportion to the computed areas.
    #[arg(long, value_name = "FIELD", requires = "landuse")]
    pub area_field: Option<String>,
    /// The land-use field of polygon ids (default: BSM when present, else the FID).
    #[arg(long, value_name = "FIELD", requires = "landuse")]
    pub landuse_id_field: Option<String>,
    /// A field flagging 国家特别规定灌木林地 (non-zero, Y, true, 是): flagged shrub forest land (0305) counts as forest.
    #[arg(long, value_name = "FIELD", requires = "landuse")]
    pub shrub_forest_field: Option<String>,
}

impl LandUseArgs {
    /// The library's land-use source, when --landuse was given.
    pub fn source(&self, encoding: Option<String>) -> Option<qingshan::commands::LandUseSource> {
        let path = self.landuse.clone()?;
        Some(qingshan::commands::LandUseSource {
            path,
            options: qingshan::landuse::LandUseOptions {
                class_field: self.class_field.clone().unwrap_or_default(),
                layer: self.landuse_layer.clone(),
                area_field: self.area_field.clone(),
                id_field: self.landuse_id_field.clone(),
                encoding,
                forest_flag_field: self.shrub_forest_field.clone(),
            },
        })
    }
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Land-cover raster(s): files, VRTs, directories or glob patterns of
    /// tiles sharing one CRS and pixel size.
    #[arg(long, value_name = "RASTER", num_args = 1.., required_unless_present = "landuse", conflicts_with = "landuse")]
    pub landcover: Vec<String>,
    #[command(flatten)]
    pub landuse: LandUseArgs,
    #[command(flatten)]
    pub zones: ZoneArgs,
    #[command(flatten)]
    pub classes: ClassArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

impl LayerArgs {
    /// The library's reading options.
    pub fn options(&self) -> ZoneOptions {
        ZoneOptions {
            id_field: self.id_field.clone(),
            name_field: self.name_field.clone(),
            layer: self.layer.clone(),
            make_valid: self.make_valid,
            encoding: self.encoding.clone(),
        }
    }
}

impl ZoneArgs {
    /// The library's zone source.
    pub fn source(&self) -> qingshan::commands::ZoneSource {
        qingshan::commands::ZoneSource {
            path: self.zones.clone(),
            options: self.layer.options(),
        }
    }
}

pub fn parse() -> Cli {
    Cli::parse()
}
