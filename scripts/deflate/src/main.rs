//! `edgetrace-deflate IN OUT`: writes IN compressed as raw deflate (RFC 1951) with Zopfli to OUT,
//! and checks nothing else: the caller (scripts/build.mjs) inflates the result with zlib and
//! compares it with IN before shipping it.
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: edgetrace-deflate IN OUT");
        return ExitCode::from(2);
    };
    match deflate(input, output) {
        Ok((from, to)) => {
            eprintln!("[deflate] {input}: {from} -> {to} bytes (zopfli, raw deflate)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("edgetrace-deflate: {input} -> {output}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn deflate(input: &str, output: &str) -> std::io::Result<(usize, usize)> {
    let data = std::fs::read(input)?;
    let mut out = Vec::with_capacity(data.len() / 2);
    // Zopfli's default of 15 iterations: more made these modules bigger, not smaller (measured
    // on the size-optimized core: 15 -> 32,280 bytes, 100 -> 32,307).
    let mut encoder = zopfli::DeflateEncoder::new(
        zopfli::Options::default(),
        zopfli::BlockType::Dynamic,
        &mut out,
    );
    encoder.write_all(&data)?;
    encoder.finish()?;
    std::fs::write(output, &out)?;
    Ok((data.len(), out.len()))
}
