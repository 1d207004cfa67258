//! Throughput of the import path a chunk processor runs, in rows per second, on a generated 100,000-row CSV:
//! planning chunks over the whole file, reading every chunk, and converting every row with a realistic spec.
//!
//! `cargo bench -p hw-import` (criterion reports rows/s as element throughput).

use std::hint::black_box;

#[path = "support/customers.rs"]
mod customers;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hw_import::{CompiledSpec, NoLookups, Sniffed, Table, apply, plan_chunks, read_chunk, sniff};

const ROWS: usize = 100_000;
/// What the planner uses (import-planner's CHUNK_BYTES).
const CHUNK_BYTES: usize = 1 << 20;

fn csv() -> Vec<u8> {
    customers::csv(ROWS)
}

fn spec(columns: &[String]) -> CompiledSpec {
    customers::spec(columns)
}

/// Plans the file and reads every chunk, as the planner and the chunk processors together do.
fn parse(bytes: &[u8], sniffed: &Sniffed, columns: &[String]) -> Vec<Table> {
    let plan = plan_chunks(bytes, sniffed, CHUNK_BYTES).expect("plan");
    plan.chunks
        .iter()
        .map(|c| read_chunk(&bytes[c.start as usize..c.end as usize], sniffed, columns, c.first_row).expect("chunk"))
        .collect()
}

fn pipeline(c: &mut Criterion) {
    let bytes = csv();
    let sniffed = sniff(&bytes[..bytes.len().min(1 << 20)], Some("customers.csv")).expect("sniff");
    // The preview reads a sample cut at a line end (the generated quoted fields hold no line breaks).
    let sample = &bytes[..=bytes[..4096].iter().rposition(|&b| b == b'\n').expect("a line in the sample")];
    let preview = hw_import::records(&hw_import::decode(sample, sniffed.encoding), &sniffed, 10).expect("preview");
    let columns = preview.columns;
    let compiled = spec(&columns);
    let tables = parse(&bytes, &sniffed, &columns);
    assert_eq!(tables.iter().map(|t| t.rows.len()).sum::<usize>(), ROWS);
    for t in &tables {
        for row in &t.rows {
            apply(&compiled, row, &NoLookups).expect("every generated row converts");
        }
    }

    let mut group = c.benchmark_group("import_100k_rows");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    group
        .bench_function("plan_and_read_chunks", |b| b.iter(|| black_box(parse(black_box(&bytes), &sniffed, &columns))));
    group.bench_function("apply", |b| {
        b.iter(|| {
            for t in &tables {
                for row in &t.rows {
                    black_box(apply(&compiled, row, &NoLookups).ok());
                }
            }
        })
    });
    group.bench_function("plan_read_and_apply", |b| {
        b.iter(|| {
            for t in parse(black_box(&bytes), &sniffed, &columns) {
                for row in &t.rows {
                    black_box(apply(&compiled, row, &NoLookups).ok());
                }
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("plan_100k_rows");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("plan_chunks", |b| {
        b.iter(|| black_box(plan_chunks(black_box(&bytes[..]), &sniffed, CHUNK_BYTES)))
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
