//! Bundles the API explorer's Swagger UI (npm `swagger-ui-dist`, pinned in explorer/package-lock.json) into the
//! binary: runs `npm ci` in explorer/ when the installed package is missing or not the locked version, then copies
//! the files the explorer serves into OUT_DIR, where `include_str!` picks them up. Nothing is loaded from a CDN.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const FILES: &[&str] = &["swagger-ui-bundle.js", "swagger-ui.css"];

fn main() {
    println!("cargo:rerun-if-changed=explorer/package-lock.json");
    println!("cargo:rerun-if-changed=explorer/package.json");
    let explorer = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("explorer");
    let dist = explorer.join("node_modules/swagger-ui-dist");
    let locked = locked_version(&explorer);
    if installed_version(&dist).as_deref() != Some(locked.as_str()) {
        let status = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&explorer)
            .status()
            .unwrap_or_else(|e| panic!("npm is needed to build the api function (it bundles Swagger UI): {e}"));
        assert!(status.success(), "`npm ci` in {} failed", explorer.display());
    }
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    for f in FILES {
        let text = fs::read_to_string(dist.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        // Source maps are not shipped; drop the comments that would make browsers ask for them.
        let text: String = text
            .lines()
            .filter(|l| !l.starts_with("//# sourceMappingURL=") && !l.starts_with("/*# sourceMappingURL="))
            .map(|l| format!("{l}\n"))
            .collect();
        let text = text.replace("/*# sourceMappingURL=swagger-ui.css.map*/", "");
        fs::write(out.join(f), text).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    println!("cargo:rustc-env=SWAGGER_UI_VERSION={locked}");
}

fn locked_version(explorer: &Path) -> String {
    let lock: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(explorer.join("package-lock.json")).expect("package-lock.json"))
            .expect("package-lock.json is JSON");
    lock["packages"]["node_modules/swagger-ui-dist"]["version"]
        .as_str()
        .expect("package-lock.json locks swagger-ui-dist")
        .to_owned()
}

fn installed_version(dist: &Path) -> Option<String> {
    let text = fs::read_to_string(dist.join("package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_owned)
}
