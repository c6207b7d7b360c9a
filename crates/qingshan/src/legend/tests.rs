//! The legend's unit tests: built-ins, TOML legends, code resolution.

use super::*;

#[test]
fn builtins_have_the_documented_codes() {
    let clcd = Legend::builtin("clcd").unwrap();
    assert_eq!(
        clcd.classes.keys().copied().collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    let forest: Vec<_> = clcd
        .classes
        .values()
        .filter(|c| c.forest)
        .map(|c| c.code)
        .collect();
    assert_eq!(forest, vec![2]);
    let natural: Vec<_> = clcd
        .classes
        .values()
        .filter(|c| c.natural)
        .map(|c| c.code)
        .collect();
    assert_eq!(natural, vec![2, 3, 4, 5, 6, 9]);
    let artificial: Vec<_> = clcd
        .classes
        .values()
        .filter(|c| c.artificial)
        .map(|c| c.code)
        .collect();
    assert_eq!(artificial, vec![1, 7, 8]);
    let wc = Legend::builtin("worldcover").unwrap();
    assert!(wc.is_forest(10) && wc.is_forest(95) && wc.is_nodata(0));
    let gl = Legend::builtin("globeland30").unwrap();
    assert!(gl.is_forest(20) && gl.is_artificial(80) && !gl.is_forest(40));
    let dw = Legend::builtin("dynamicworld").unwrap();
    assert!(dw.is_forest(1) && dw.is_natural(0) && dw.is_artificial(4));
    assert!(Legend::builtin("nope").is_none());
}

#[test]
fn toml_extends_and_overrides() {
    let l = Legend::from_toml(
        "name = \"shrubby\"\nextends = \"clcd\"\n[[class]]\ncode = 3\nforest = true\n[[class]]\ncode = 42\nname = \"Quarry\"\nkind = \"barren\"\ncolor = \"#112233\"\n",
        "x.toml",
    )
    .unwrap();
    assert_eq!(l.name, "shrubby");
    assert!(l.is_forest(2) && l.is_forest(3));
    assert!(l.is_artificial(42));
    assert_eq!(l.color_of(42), [0x11, 0x22, 0x33]);
    assert_eq!(l.class(3).unwrap().name, "Shrub");
}

#[test]
fn toml_errors_are_clear() {
    let e = Legend::from_toml("[[class]]\ncode = 5\n", "a.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("a.toml") && e.contains("needs `kind`"), "{e}");
    let e = Legend::from_toml("extends = \"clc\"\n", "b.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown legend"), "{e}");
    let e = Legend::from_toml("bogus = 1\n", "c.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("c.toml") && e.contains("bogus"), "{e}");
    let e = Legend::load("no-such-legend").unwrap_err().to_string();
    assert!(e.contains("not a built-in legend"), "{e}");
}

#[test]
fn unknown_codes_are_named_not_dropped() {
    let l = Legend::builtin("clcd").unwrap();
    assert_eq!(l.name_of(200), "class 200");
    assert!(!l.is_forest(200) && !l.is_natural(200));
}

#[test]
fn sandiao_roles_follow_the_survey() {
    let l = Legend::builtin("sandiao").unwrap();
    let code = |s: &str| ClassCode::parse(s).unwrap();
    // Every row's code parses back to itself and is listed once.
    assert_eq!(l.classes.len(), sandiao::SANDIAO.len());
    for r in sandiao::SANDIAO {
        assert_eq!(l.class(code(r.code)).unwrap().name_zh, r.name_zh);
        assert_eq!(code(r.code).to_string(), r.code);
    }
    let forest: Vec<String> = l
        .classes
        .values()
        .filter(|c| c.forest)
        .map(|c| c.code.to_string())
        .collect();
    assert_eq!(forest, ["0301", "0302", "0303", "0304"]);
    let land: Vec<String> = l
        .classes
        .values()
        .filter(|c| c.forest_land)
        .map(|c| c.code.to_string())
        .collect();
    assert_eq!(
        land,
        ["03", "0301", "0302", "0303", "0304", "0305", "0306", "0307"]
    );
    assert!(l.is_forest_land(code("0305")) && !l.is_forest(code("0305")));
    assert!(l.is_forest(code("0301K")) && l.is_forest_land(code("0307K")));
    assert!(l.is_artificial(code("0602")) && l.is_artificial(ClassCode::int(1203)));
    assert!(l.is_natural(code("1206")) && !l.is_artificial(code("1206")));
    assert!(l.is_artificial(code("0201")) && l.is_vegetated(code("0201")));
    assert_eq!(l.class(code("05H1")).unwrap().name_zh, "商业服务业设施用地");
    // A numeric field that lost its zero; unknown codes stay unknown.
    assert_eq!(l.class(103).unwrap().name_zh, "旱地");
    assert_eq!(l.class(3).unwrap().name_zh, "林地");
    assert!(l.class(code("0399")).is_none() && l.class(code("K")).is_none());
    assert_eq!(l.class(code("301K")).unwrap().name_zh, "乔木林地");
    let mut areas = BTreeMap::new();
    areas.insert(code("0301K"), 1.0);
    areas.insert(code("9999"), 2.0);
    assert_eq!(l.unknown(&areas), vec![(code("9999"), 2.0)]);
    // CLCD is not a survey legend: no forest land, serialisation unchanged.
    let clcd = Legend::builtin("clcd").unwrap();
    assert!(!clcd.has_forest_land() && l.has_forest_land());
    assert!(
        !serde_json::to_string(&clcd)
            .unwrap()
            .contains("forest_land")
    );
}

#[test]
fn toml_text_codes_and_forest_land() {
    let l = Legend::from_toml(
        "extends = \"sandiao\"\n[[class]]\ncode = \"0305\"\nforest = true\n[[class]]\ncode = \"0399\"\nname = \"Local\"\nkind = \"forest\"\nforest_land = true\n",
        "tg.toml",
    )
    .unwrap();
    let code = |s: &str| ClassCode::parse(s).unwrap();
    assert!(l.is_forest(code("0305")) && l.is_forest_land(code("0399")));
    let e = Legend::from_toml("[[class]]\ncode = \"\"\nkind = \"forest\"\n", "e.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("e.toml") && e.contains("empty class code"),
        "{e}"
    );
}
