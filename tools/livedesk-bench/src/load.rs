//! The load drivers. [`drive`]: `n` operations spread over `c` worker
//! tasks, each timed (closed loop: the maximum rate). Workers are real
//! tasks (not one task polling futures) so the client side uses every
//! core, as `c` independent callers would. [`pace`]: operations started
//! at a fixed rate whatever the answers do (open loop: the latency at a
//! given load).
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

/// Runs `op(0..n)` open loop at `rate_per_s`: operation `i` starts
/// `i / rate_per_s` seconds after the first, whether or not the earlier
/// ones have answered, as independent clients arrive. Its latency counts
/// from that scheduled instant, not from when it was actually sent, so a
/// stall is charged to every operation it held back (no coordinated
/// omission, after wrk2 and HdrHistogram). `wall` runs from the first
/// scheduled start to the last answer.
///
/// `op` gets the operation's index and scheduled instant (what an
/// operation measured elsewhere, a delivery on a stream, counts from).
pub async fn pace<F, Fut>(n: usize, rate_per_s: f64, op: F) -> Run
where
    F: Fn(usize, Instant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let interval = Duration::from_secs_f64(1.0 / rate_per_s.max(1e-3));
    let started = Instant::now();
    // The schedule is kept by a thread of its own with the OS's sleep
    // (tens of microseconds of slack), not by tokio's timer, whose 1 ms
    // wheel would make every start up to a millisecond late: lateness the
    // latency (counted from the schedule) would charge to the service.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let clock = std::thread::spawn(move || {
        for i in 0..n {
            let at = started + interval.mul_f64(i as f64);
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if tx.send((i, at)).is_err() {
                return;
            }
        }
    });
    let mut tasks = Vec::with_capacity(n);
    while let Some((i, at)) = rx.recv().await {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let result = op(i, at).await;
            (result, at.elapsed())
        }));
    }
    let _ = clock.join();
    let mut run = Run::default();
    for t in tasks {
        match t.await {
            Ok((Ok(()), latency)) => run.latencies.push(latency),
            Ok((Err(e), _)) => {
                run.errors += 1;
                run.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
            Err(e) => {
                run.errors += 1;
                run.first_error.get_or_insert_with(|| format!("task: {e}"));
            }
        }
    }
    run.wall = started.elapsed();
    run
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Paced operations start on schedule even while earlier ones are
    /// still running, and each latency counts from its scheduled start:
    /// with one operation stalled, the others are not held back, and the
    /// stalled one's latency includes its whole stall.
    #[tokio::test]
    async fn paced_operations_do_not_wait_for_each_other() {
        let started = Arc::new(std::sync::Mutex::new(Vec::new()));
        let run = {
            let started = started.clone();
            pace(5, 1000.0, move |i, _| {
                let started = started.clone();
                async move {
                    started.lock().unwrap().push(i);
                    if i == 0 {
                        // The first waits until every other has started.
                        while started.lock().unwrap().len() < 5 {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        anyhow::ensure!(started.lock().unwrap().len() == 5);
                    }
                    Ok(())
                }
            })
            .await
        };
        assert_eq!(run.ok(), 5, "{:?}", run.first_error);
        assert_eq!(started.lock().unwrap().len(), 5);
    }
}
