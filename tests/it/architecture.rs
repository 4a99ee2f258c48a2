//! The layers of `src/`, checked on the source (ARCHITECTURE.md): no file imports a file that
//! imports it back (a module and its own submodules aside), no two top-level modules import
//! each other, and the store, at the bottom, imports only `domain` and `config`. Test code (a
//! file's `#[cfg(test)]` tail, `tests.rs` and `*_tests.rs` files) is left out.
//!
//! Imports are read from the paths in the code (`crate::a::b`, `super::c`, `self::d`, and the
//! modules named in their `{…}` groups), each resolved to the deepest module file it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every module file under `src/`, by module path (`src/store/sqlite/mod.rs` → store::sqlite).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut map = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Module = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts == ["lib"] || parts == ["main"] {
            parts.clear();
        }
        if parts
            .last()
            .is_some_and(|p| p == "tests" || p.ends_with("_tests"))
        {
            continue;
        }
        map.insert(parts, file);
    }
    map
}

/// The code of a file without its test tail and its `//` comments.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every module path the code names, relative to the crate root.
fn named_paths(text: &str, module: &Module) -> Vec<Module> {
    let mut out = Vec::new();
    for keyword in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(found) = text[from..].find(keyword) {
            let at = from + found;
            from = at + keyword.len();
            if at > 0 && text[..at].chars().next_back().is_some_and(is_ident) {
                continue;
            }
            // `super` is the parent module, for `a/b.rs` and `a/b/mod.rs` alike.
            let mut base: Module = match keyword {
                "crate::" => Vec::new(),
                "super::" => {
                    let mut b = module.clone();
                    b.pop();
                    b
                }
                _ => module.clone(),
            };
            let mut rest = &text[from..];
            let mut path = Vec::new();
            loop {
                let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
                if ident.is_empty() {
                    break;
                }
                rest = &rest[ident.len()..];
                if ident == "super" && path.is_empty() {
                    base.pop();
                } else {
                    path.push(ident);
                }
                if let Some(r) = rest.strip_prefix("::") {
                    rest = r;
                } else {
                    break;
                }
            }
            let mut full = base.clone();
            full.extend(path);
            if let Some(group) = rest.strip_prefix('{') {
                let inner: String = group.chars().take_while(|c| *c != ';').collect();
                for item in inner.split(|c: char| !is_ident(c)) {
                    if item.starts_with(|c: char| c.is_ascii_lowercase()) {
                        let mut p = full.clone();
                        p.push(item.to_string());
                        out.push(p);
                    }
                }
            }
            out.push(full);
        }
    }
    out
}

/// Module → the modules it imports (never itself).
fn imports(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mods = modules(src);
    let resolve = |path: &Module| -> Option<Module> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| mods.contains_key(p))
    };
    mods.iter()
        .map(|(module, file)| {
            let targets = named_paths(&code(file), module)
                .iter()
                .filter_map(&resolve)
                .filter(|t| t != module)
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

fn show(m: &Module) -> String {
    m.join("/")
}

fn related(a: &Module, b: &Module) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    imports(&crate::support::manifest_dir().join("src"))
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let g = graph();
    assert!(g.len() > 100, "too few modules found: {}", g.len());
    let mut loops = BTreeSet::new();
    for (a, targets) in &g {
        for b in targets {
            if !related(a, b) && g.get(b).is_some_and(|t| t.contains(a)) {
                let (x, y) = if a < b { (a, b) } else { (b, a) };
                loops.insert(format!("{} <-> {}", show(x), show(y)));
            }
        }
    }
    assert_eq!(loops, BTreeSet::new(), "files importing each other");
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let g = graph();
    let mut top: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, targets) in &g {
        let Some(a0) = a.first() else { continue };
        for b in targets {
            if let Some(b0) = b.first()
                && a0 != b0
            {
                top.entry(a0).or_default().insert(b0);
            }
        }
    }
    assert!(top["pipeline"].contains("store"), "{top:?}");
    let mut loops = Vec::new();
    for (a, bs) in &top {
        for b in bs {
            if a < b && top.get(b).is_some_and(|t| t.contains(a)) {
                loops.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert_eq!(
        loops,
        Vec::<String>::new(),
        "top-level modules importing each other"
    );
}

#[test]
fn the_store_imports_only_domain_and_config() {
    let g = graph();
    let outside: BTreeSet<String> = g
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|s| s == "store"))
        .flat_map(|(m, targets)| {
            targets
                .iter()
                .filter(|t| {
                    !t.first()
                        .is_some_and(|s| ["store", "domain", "config"].contains(&s.as_str()))
                })
                .map(move |t| format!("{} imports {}", show(m), show(t)))
        })
        .collect();
    assert!(g.keys().any(|m| m == &["store", "sqlite"]), "store::sqlite");
    assert_eq!(outside, BTreeSet::new(), "the store imports its callers");
}
