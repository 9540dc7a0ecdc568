//! `crc`: what CRC-64 costs a multipart upload, on fresh data: every part's checksum over a
//! buffer far larger than the CPU caches (as the uploader meets a file), then the combine of the
//! part checksums into the object's, as `oss-upload` does once per upload.

use std::time::Instant;

use oss_upload::Crc64;

use crate::args::Args;
use crate::metrics::num;

/// Combines are timed this many times (each is milliseconds); the median is reported.
const COMBINE_REPEATS: usize = 9;

/// `crc [--parts 171] [--part-size 6291456]`: one JSON line with milliseconds per GiB.
pub(crate) fn run(args: &Args) -> Result<(), String> {
    let parts = args.number("parts", 171)?.max(1) as usize;
    let part_size = args.number("part-size", 6 << 20)?.max(1) as usize;
    // Written once, just before: "fresh" means not in any cache when the checksum reads it
    // (a gigabyte cannot stay in one), not "never touched" (then the page faults would be
    // timed too).
    let data: Vec<u8> = (0..parts * part_size)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let gib = data.len() as f64 / (1u64 << 30) as f64;
    let started = Instant::now();
    let crcs: Vec<(u64, u64)> = data
        .chunks(part_size)
        .map(|p| (Crc64::checksum(p), p.len() as u64))
        .collect();
    let checksum_s = started.elapsed().as_secs_f64();
    let mut combine_s = Vec::with_capacity(COMBINE_REPEATS);
    let mut combined = 0;
    for _ in 0..COMBINE_REPEATS {
        let t = Instant::now();
        combined = Crc64::combine_parts(std::hint::black_box(crcs.iter().copied()));
        combine_s.push(t.elapsed().as_secs_f64());
    }
    combine_s.sort_by(f64::total_cmp);
    let combine = combine_s[combine_s.len() / 2];
    // The check that the figures measure the real thing: the combine is the whole checksum.
    if combined != Crc64::checksum(&data) {
        return Err("combined part CRCs differ from the whole-object CRC".into());
    }
    println!(
        "{{\"bench\":\"crc-combine\",\"parts\":{parts},\"part_size\":{part_size},\"bytes\":{},\"checksum_ms_per_gib\":{},\"combine_ms_per_gib\":{},\"total_ms_per_gib\":{}}}",
        data.len(),
        num(checksum_s * 1e3 / gib),
        num(combine * 1e3 / gib),
        num((checksum_s + combine) * 1e3 / gib),
    );
    Ok(())
}
