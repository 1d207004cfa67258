//! Bundles GraphiQL into the binary: its UMD builds (and React's) come from the npm registry at build time, pinned
//! in `graphiql/package.json`, so the page never loads anything from a CDN at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

const ASSETS: &[(&str, &str)] = &[
    ("graphiql.min.js", "node_modules/graphiql/graphiql.min.js"),
    ("graphiql.min.css", "node_modules/graphiql/graphiql.min.css"),
    ("react.production.min.js", "node_modules/react/umd/react.production.min.js"),
    ("react-dom.production.min.js", "node_modules/react-dom/umd/react-dom.production.min.js"),
];

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("graphiql");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=graphiql/package.json");
    if ASSETS.iter().any(|(_, src)| !dir.join(src).is_file()) {
        install(&dir);
    }
    for (name, src) in ASSETS {
        let from = dir.join(src);
        println!("cargo:rerun-if-changed={}", from.display());
        std::fs::copy(&from, out.join(name)).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
}

fn install(dir: &Path) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--omit=dev", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "GraphiQL is bundled from npm at build time, and `npm` could not be run ({e}); install Node.js and npm"
            )
        });
    assert!(status.success(), "`npm ci` in {} failed", dir.display());
}
