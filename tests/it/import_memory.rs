//! The memory of an import is bounded by bytes, not only by a message count: an archive of
//! 100 KB mails (500 of them, the default batch size, would be 50 MB a batch, six batches in
//! flight) imports within the same peak RSS as one of small mail. The peak is that of the
//! `mailgate import` process alone (wait4).

use std::process::Stdio;
use std::time::Duration;

use mailgate_test_support::memory::run_measured;
use mailgate_test_support::{ArchiveSpec, write_mbox_sized};

use crate::support::*;

/// Peak RSS allowed for the import (this debug build peaked near 105 MB; with batches bounded
/// by their message count alone, at 270 MB).
const MAX_RSS: u64 = 150 << 20;

#[test]
fn an_archive_of_100_kb_mails_imports_within_a_memory_bound() {
    let app = App::new();
    let path = app.dir().join("big-mail.mbox");
    let spec = ArchiveSpec::new(0, 11).with_message_size(100_000);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let stats = write_mbox_sized(&spec, 120_000_000, &mut out).unwrap();
    std::io::Write::flush(&mut out).unwrap();
    drop(out);
    assert!(stats.messages > 1000, "{stats:?}");

    let stdout = app.dir().join("import.stdout");
    let mut cmd = app.command(&["import", path.to_str().unwrap(), "--json"]);
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(Stdio::inherit());
    let run = run_measured(&mut cmd, Duration::from_secs(600)).unwrap();
    assert_eq!(run.code, Some(0));
    let report: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&stdout).unwrap().trim()).unwrap();
    assert_eq!(u64_of(&report, "read"), stats.messages, "{report:#}");
    assert_eq!(u64_of(&report, "quarantined"), 0, "{report:#}");
    assert_eq!(u64_of(&report, "errors"), 0, "{report:#}");
    assert_eq!(
        u64_of(&report, "created") + u64_of(&report, "threaded") + u64_of(&report, "ignored"),
        stats.messages,
        "{report:#}"
    );
    eprintln!(
        "import of {} messages, {:.0} MB: {:.1} s, peak RSS {:.1} MB",
        stats.messages,
        stats.bytes as f64 / 1e6,
        run.wall.as_secs_f64(),
        run.peak_rss as f64 / 1_048_576.0
    );
    assert!(run.peak_rss < MAX_RSS, "peak RSS {} MB", run.peak_rss >> 20);
}
