//! The built-in `sandiao` legend: the land-use classification of the Third
//! National Land Survey (《第三次全国国土调查工作分类》), as the survey's
//! `DLTB` layer and its yearly updates (国土变更调查) write it in `DLBM`.
//!
//! Roles (see DOMAIN.md):
//! - forest land (林地, the 林地保有量 target) = every 03xx code;
//! - forest (森林, for forest cover) = 0301 乔木林地, 0302 竹林地, and the
//!   tree-covered wetland classes 0303 红树林地 and 0304 森林沼泽 (an
//!   interpretation: both are arbor stands that the forest inventory counts
//!   as 乔木林); 0305 灌木林地 counts only where a legend or an attribute
//!   flags it as 国家特别规定灌木林地;
//! - natural, artificial and vegetated as the kinds of the rest of qingshan,
//!   with the survey's own reading where it differs (orchards are planted
//!   and vegetated; bare land, sand and saline land are natural; 其他林地
//!   is natural and vegetated but not forest).
//!
//! Colours are qingshan's (one hue per first-level class), not those of the
//! survey's map standard, which we could not source.

use super::ClassKind::{self, *};

/// A class of the survey: code, English and Chinese names, colour, kind,
/// and flags (forest, forest land, natural, artificial, vegetated) that
/// override the kind's defaults.
pub(super) struct SurveyRow {
    pub code: &'static str,
    pub name: &'static str,
    pub name_zh: &'static str,
    pub color: &'static str,
    pub kind: ClassKind,
    pub forest: bool,
    pub forest_land: bool,
    pub natural: bool,
    pub artificial: bool,
    pub vegetated: bool,
}

const fn row(
    code: &'static str,
    name: &'static str,
    name_zh: &'static str,
    color: &'static str,
    kind: ClassKind,
) -> SurveyRow {
    let natural = matches!(kind, Forest | Shrub | Grassland | Water | Wetland | Snow);
    let artificial = matches!(kind, Cropland | Built | Barren);
    let vegetated = matches!(kind, Forest | Shrub | Grassland);
    SurveyRow {
        code,
        name,
        name_zh,
        color,
        kind,
        forest: false,
        forest_land: false,
        natural,
        artificial,
        vegetated,
    }
}

const fn forest(r: SurveyRow) -> SurveyRow {
    SurveyRow {
        forest: true,
        ..forest_land(r)
    }
}

const fn forest_land(r: SurveyRow) -> SurveyRow {
    SurveyRow {
        forest_land: true,
        ..r
    }
}

const fn natural(r: SurveyRow, vegetated: bool) -> SurveyRow {
    SurveyRow {
        natural: true,
        artificial: false,
        vegetated,
        ..r
    }
}

const fn planted(r: SurveyRow) -> SurveyRow {
    SurveyRow {
        natural: false,
        artificial: true,
        vegetated: true,
        ..r
    }
}

/// The survey's first- and second-level classes, in code order.
pub(super) const SANDIAO: &[SurveyRow] = &[
    // 01 耕地
    row("01", "Cultivated land", "耕地", "#f5e79c", Cropland),
    row("0101", "Paddy field", "水田", "#f2e58a", Cropland),
    row("0102", "Irrigated land", "水浇地", "#f5e2a0", Cropland),
    row("0103", "Dry land", "旱地", "#f9edb3", Cropland),
    // 02 种植园用地
    planted(row("02", "Plantation land", "种植园用地", "#e6b85c", Other)),
    planted(row("0201", "Orchard", "果园", "#e3ad4b", Other)),
    planted(row("0202", "Tea garden", "茶园", "#d9b45c", Other)),
    planted(row("0203", "Rubber plantation", "橡胶园", "#c9a04a", Other)),
    planted(row(
        "0204",
        "Other plantation",
        "其他园地",
        "#e8c27a",
        Other,
    )),
    // 03 林地
    forest_land(row("03", "Forest land", "林地", "#3f7f3a", Forest)),
    forest(row(
        "0301",
        "Arbor forest land",
        "乔木林地",
        "#2f6b2b",
        Forest,
    )),
    forest(row(
        "0302",
        "Bamboo forest land",
        "竹林地",
        "#4f8f3a",
        Forest,
    )),
    forest(row(
        "0303",
        "Mangrove forest land",
        "红树林地",
        "#2f7f5f",
        Forest,
    )),
    forest(row("0304", "Forest swamp", "森林沼泽", "#3f7f6f", Forest)),
    forest_land(row(
        "0305",
        "Shrub forest land",
        "灌木林地",
        "#6fa84f",
        Shrub,
    )),
    forest_land(row("0306", "Shrub swamp", "灌丛沼泽", "#5f9f7f", Shrub)),
    forest_land(natural(
        row("0307", "Other forest land", "其他林地", "#8fbf6f", Forest),
        true,
    )),
    // 04 草地
    row("04", "Grassland", "草地", "#b5d67a", Grassland),
    row(
        "0401",
        "Natural pasture",
        "天然牧草地",
        "#b0d070",
        Grassland,
    ),
    row("0402", "Marsh grassland", "沼泽草地", "#9fcf9f", Grassland),
    planted(row(
        "0403",
        "Artificial pasture",
        "人工牧草地",
        "#c5dc8a",
        Grassland,
    )),
    row("0404", "Other grassland", "其他草地", "#c8e096", Grassland),
    // 05 商业服务业用地
    row(
        "05",
        "Commercial service land",
        "商业服务业用地",
        "#e8727a",
        Built,
    ),
    row(
        "05H1",
        "Commercial service facilities",
        "商业服务业设施用地",
        "#e8687a",
        Built,
    ),
    row(
        "0508",
        "Logistics and warehousing",
        "物流仓储用地",
        "#d9828a",
        Built,
    ),
    // 06 工矿用地
    row(
        "06",
        "Industrial and mining land",
        "工矿用地",
        "#b08a78",
        Built,
    ),
    row("0601", "Industrial land", "工业用地", "#b7938a", Built),
    row("0602", "Mining land", "采矿用地", "#9a6f5a", Barren),
    row("0603", "Salt pan", "盐田", "#c7b7a8", Built),
    // 07 住宅用地
    row("07", "Residential land", "住宅用地", "#e24f4f", Built),
    row(
        "0701",
        "Urban residential land",
        "城镇住宅用地",
        "#e04848",
        Built,
    ),
    row("0702", "Rural homestead", "农村宅基地", "#e86a5a", Built),
    // 08 公共管理与公共服务用地
    row(
        "08",
        "Public administration and services",
        "公共管理与公共服务用地",
        "#f08cb4",
        Built,
    ),
    row(
        "08H1",
        "Government and public organisations",
        "机关团体新闻出版用地",
        "#ec84ac",
        Built,
    ),
    row(
        "08H2",
        "Science, education, culture and health",
        "科教文卫用地",
        "#f294bc",
        Built,
    ),
    row("0809", "Public utilities", "公用设施用地", "#e89cbc", Built),
    planted(row(
        "0810",
        "Parks and green space",
        "公园与绿地",
        "#9fd49f",
        Built,
    )),
    // 09 特殊用地 (no second level)
    row("09", "Special-use land", "特殊用地", "#a0708a", Built),
    // 10 交通运输用地
    row("10", "Transport land", "交通运输用地", "#9a9a9a", Built),
    row("1001", "Railway", "铁路用地", "#7f7f7f", Built),
    row("1002", "Rail transit", "轨道交通用地", "#8a8a8a", Built),
    row("1003", "Highway", "公路用地", "#a0a0a0", Built),
    row(
        "1004",
        "Urban and village roads",
        "城镇村道路用地",
        "#aaaaaa",
        Built,
    ),
    row(
        "1005",
        "Transport service stations",
        "交通服务场站用地",
        "#959595",
        Built,
    ),
    row("1006", "Rural road", "农村道路", "#b5b5b5", Built),
    row("1007", "Airport", "机场用地", "#858585", Built),
    row("1008", "Port and wharf", "港口码头用地", "#8f8f8f", Built),
    row(
        "1009",
        "Pipeline transport",
        "管道运输用地",
        "#9f9f9f",
        Built,
    ),
    // 11 水域及水利设施用地
    row(
        "11",
        "Water and water facilities",
        "水域及水利设施用地",
        "#5b9bd5",
        Water,
    ),
    row("1101", "River", "河流水面", "#4a8fd0", Water),
    row("1102", "Lake", "湖泊水面", "#3f86c8", Water),
    row("1103", "Reservoir", "水库水面", "#5a9ad8", Water),
    row("1104", "Pond", "坑塘水面", "#6aa6dc", Water),
    row("1105", "Coastal tidal flat", "沿海滩涂", "#8fc4e4", Wetland),
    row("1106", "Inland tidal flat", "内陆滩涂", "#9fcce8", Wetland),
    row("1107", "Ditch and canal", "沟渠", "#7fb4e0", Water),
    row("1108", "Swamp", "沼泽地", "#6fbfbf", Wetland),
    row(
        "1109",
        "Hydraulic structures",
        "水工建筑用地",
        "#7f8fa8",
        Built,
    ),
    row(
        "1110",
        "Glacier and permanent snow",
        "冰川及永久积雪",
        "#e8f4fc",
        Snow,
    ),
    // 12 其他土地
    row("12", "Other land", "其他土地", "#d8c8a8", Other),
    row("1201", "Vacant land", "空闲地", "#d0b8a0", Built),
    row(
        "1202",
        "Agricultural facilities",
        "设施农用地",
        "#e8d8a0",
        Cropland,
    ),
    row("1203", "Field ridge", "田坎", "#e0d090", Cropland),
    natural(
        row("1204", "Saline-alkali land", "盐碱地", "#e4dcc8", Barren),
        false,
    ),
    natural(row("1205", "Sandy land", "沙地", "#eadcb0", Barren), false),
    natural(row("1206", "Bare soil", "裸土地", "#d8c4a0", Barren), false),
    natural(
        row(
            "1207",
            "Bare rock and gravel",
            "裸岩石砾地",
            "#c8bca8",
            Barren,
        ),
        false,
    ),
];
