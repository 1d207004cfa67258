//! Single-thread import throughput on a file on disk, for bench/imports.py to set beside DuckDB's `read_csv_auto`
//! on the same file:
//!
//!   throughput write FILE ROWS     writes the benchmark's customer CSV (benches/support/customers.rs)
//!   throughput run FILE [REPEAT]   reads FILE the way the planner and chunk processors do, one thread, REPEAT
//!                                  times (default 5), and prints JSON: rows, bytes, seconds of each repeat
//!
//! A repeat is everything between the file and a record ready to write: reading the file, sniffing it, planning
//! 1 MiB chunks, reading each chunk into rows (CSV parsing and decoding), applying the mapping and rules (typed
//! conversion), and validating the result against the model (what `Records` does before a write).

use std::time::Instant;

#[path = "../benches/support/customers.rs"]
mod customers;

use hw_domain::validate::{Mode, validate_attributes};
use hw_import::{NoLookups, apply, plan_chunks, read_chunk, sniff};

const CHUNK_BYTES: usize = 1 << 20;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write", file, rows] => {
            let rows: usize = rows.parse().expect("ROWS is a number");
            std::fs::write(file, customers::csv(rows)).expect("the file is written");
        }
        ["run", file, ref rest @ ..] => {
            let repeat: usize = rest.first().map_or(5, |r| r.parse().expect("REPEAT is a number"));
            let mut seconds = Vec::new();
            let mut rows = 0;
            let mut bytes = 0;
            for _ in 0..repeat {
                let started = Instant::now();
                (rows, bytes) = once(file);
                seconds.push(started.elapsed().as_secs_f64());
            }
            println!("{}", serde_json::json!({"rows": rows, "bytes": bytes, "seconds": seconds}));
        }
        _ => {
            eprintln!("usage: throughput write FILE ROWS | throughput run FILE [REPEAT]");
            std::process::exit(2);
        }
    }
}

/// One pass over the file; answers (rows ready to write, bytes). Panics on a row that fails: the benchmark file
/// has none, and a failure would mean the figures measure an error path.
fn once(file: &str) -> (usize, usize) {
    let bytes = std::fs::read(file).expect("the file reads");
    let sniffed = sniff(&bytes[..bytes.len().min(1 << 20)], Some(file)).expect("sniff");
    let header_end = bytes.iter().position(|&b| b == b'\n').expect("a header line") + 1;
    let columns = hw_import::records(&hw_import::decode(&bytes[..header_end], sniffed.encoding), &sniffed, 0)
        .expect("header")
        .columns;
    let spec = customers::spec(&columns);
    let model = customers::model();
    let pointer = |field: &str| format!("/{field}");
    let plan = plan_chunks(&bytes[..], &sniffed, CHUNK_BYTES).expect("plan");
    let mut ready = 0;
    for chunk in &plan.chunks {
        let table = read_chunk(&bytes[chunk.start as usize..chunk.end as usize], &sniffed, &columns, chunk.first_row)
            .expect("chunk");
        for row in &table.rows {
            let attributes = apply(&spec, row, &NoLookups).expect("every benchmark row converts");
            validate_attributes(&model, &attributes, Mode::Create, &pointer).expect("every benchmark row is valid");
            ready += 1;
        }
    }
    (ready, bytes.len())
}
