//! The load driver: `n` operations spread over `c` worker tasks, each
//! timed. Workers are real tasks (not one task polling futures) so the
//! client side uses every core, as `c` independent callers would.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a driven run measured.
#[derive(Debug, Default)]
pub struct Run {
    /// Latency of each successful operation.
    pub latencies: Vec<Duration>,
    /// From the first operation's start to the last one's end.
    pub wall: Duration,
    pub errors: u64,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
}

impl Run {
    /// Successful operations.
    pub fn ok(&self) -> u64 {
        self.latencies.len() as u64
    }
}

/// Runs `op(0..n)` with `c` concurrent workers.
pub async fn drive<F, Fut>(n: usize, c: usize, op: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..c.max(1))
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut part = Run::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return part;
                    }
                    let t = Instant::now();
                    match op(i).await {
                        Ok(()) => part.latencies.push(t.elapsed()),
                        Err(e) => {
                            part.errors += 1;
                            part.first_error.get_or_insert_with(|| format!("{e:#}"));
                        }
                    }
                }
            })
        })
        .collect();
    let mut run = Run::default();
    for w in workers {
        match w.await {
            Ok(part) => {
                run.latencies.extend(part.latencies);
                run.errors += part.errors;
                if run.first_error.is_none() {
                    run.first_error = part.first_error;
                }
            }
            Err(e) => {
                run.errors += 1;
                run.first_error
                    .get_or_insert_with(|| format!("worker: {e}"));
            }
        }
    }
    run.wall = started.elapsed();
    run
}
