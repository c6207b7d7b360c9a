//! The ordered parallel runner: workers pull tasks in order, the calling
//! thread merges their results in task order as they arrive.
//!
//! Invariant: `merge` sees task results in task order, whatever the
//! thread count; no more than `4 × threads` results wait unmerged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use super::{Progress, RunOptions, Task};
use crate::{Error, Result};

/// Hand-over between the workers of [`Runner::run_ordered`] and the thread
/// that merges: how many results are merged, and whether to stop.
struct Gate {
    merged: Mutex<usize>,
    moved: Condvar,
    stop: AtomicBool,
}

impl Gate {
    /// Blocks until task `index` may start (fewer than `ahead` results
    /// wait unmerged before it); false when the run stops.
    fn wait_turn(&self, index: usize, ahead: usize) -> bool {
        let mut merged = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        while index >= *merged + ahead && !self.stop.load(Ordering::Acquire) {
            merged = self.moved.wait(merged).unwrap_or_else(|e| e.into_inner());
        }
        !self.stop.load(Ordering::Acquire)
    }

    fn set_merged(&self, n: usize) {
        *self.merged.lock().unwrap_or_else(|e| e.into_inner()) = n;
        self.moved.notify_all();
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::Release);
        let _guard = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        self.moved.notify_all();
    }
}

/// Takes the next task index for the merging thread, if it is below `limit`.
fn claim(next: &AtomicUsize, limit: usize) -> Option<usize> {
    next.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |i| {
        (i < limit).then_some(i + 1)
    })
    .ok()
}

/// Stops the run if a worker unwinds (a panic), so that neither the
/// merging thread nor the other workers wait for its task forever; the
/// panic itself is re-raised when the scope ends.
struct HaltOnUnwind<'g>(&'g Gate);

impl Drop for HaltOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

/// A pool of worker threads for one run.
pub(crate) struct Runner<'a> {
    pool: rayon::ThreadPool,
    threads: usize,
    progress: Option<&'a dyn Progress>,
}

impl<'a> Runner<'a> {
    /// Starts the workers (`threads`: `None`/0 = all cores).
    pub(crate) fn new(opts: &RunOptions<'a>) -> Result<Runner<'a>> {
        opts.check()?;
        let threads = opts.threads.filter(|&t| t > 0).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start {threads} threads: {e}")))?;
        Ok(Runner {
            pool,
            threads,
            progress: opts.progress,
        })
    }

    /// Number of worker threads.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` inside the pool (for rayon iterators of the caller's own).
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Runs `work` over `tasks` and feeds the results to `merge` in task
    /// order, with the seconds each task took. Each worker keeps one state
    /// (`init`, e.g. its GDAL datasets) and takes the next task in order;
    /// the calling thread is one of the workers and merges whenever the
    /// next result in order is done, so merging never stops the others.
    /// No task starts more than `4 × threads` tasks ahead of the merge, so
    /// only that many partial results are held at once. The first error
    /// (in task order) wins and stops the run.
    pub(crate) fn run_ordered<W, P, I, F, M>(
        &self,
        tasks: &[Task],
        cells: impl Fn(&Task) -> u64 + Sync,
        init: I,
        work: F,
        mut merge: M,
    ) -> Result<()>
    where
        P: Send,
        I: Fn() -> W + Sync,
        F: Fn(&mut W, &Task) -> Result<P> + Sync,
        M: FnMut(&Task, P, f64),
    {
        let progress = self.progress;
        let total: u64 = tasks.iter().map(&cells).sum();
        if let Some(p) = progress {
            p.start(total);
        }
        let ahead = self.threads * 4;
        let next = AtomicUsize::new(0);
        let gate = Gate {
            merged: Mutex::new(0),
            moved: Condvar::new(),
            stop: AtomicBool::new(false),
        };
        let n = tasks.len();
        // One task, timed, with progress.
        let execute = |state: &mut W, index: usize| -> (Result<P>, f64) {
            if progress.is_some_and(|p| p.cancelled()) {
                return (Err(Error::Invalid("the run was cancelled".into())), 0.0);
            }
            let task = &tasks[index];
            let started = std::time::Instant::now();
            let r = work(state, task);
            let secs = started.elapsed().as_secs_f64();
            if let Some(p) = progress {
                p.advance(cells(task));
            }
            (r, secs)
        };
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<P>, f64)>();
        let result = self.pool.in_place_scope(|scope| {
            // A panic here (in a task or in `merge`) must release the
            // helpers before the scope waits for them.
            let _halt = HaltOnUnwind(&gate);
            // The calling thread is the last worker: it merges, and works
            // whenever the next result in order is not there yet.
            for _ in 0..self.threads.saturating_sub(1).min(n) {
                let tx = tx.clone();
                let (next, gate, init, execute) = (&next, &gate, &init, &execute);
                scope.spawn(move |_| {
                    let _halt = HaltOnUnwind(gate);
                    let mut state = init();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= n || !gate.wait_turn(index, ahead) {
                            break;
                        }
                        let (r, secs) = execute(&mut state, index);
                        if tx.send((index, r, secs)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut own: Option<W> = None;
            // Results done before their turn, by task index.
            let mut early: HashMap<usize, (Result<P>, f64)> = HashMap::new();
            let mut result = Ok(());
            let mut want = 0;
            while want < n {
                while let Ok((i, r, secs)) = rx.try_recv() {
                    early.insert(i, (r, secs));
                }
                let (r, secs) = match early.remove(&want) {
                    Some(got) => got,
                    None if let Some(index) = claim(&next, n.min(want + ahead)) => {
                        let got = execute(own.get_or_insert_with(&init), index);
                        early.insert(index, got);
                        continue;
                    }
                    None => match rx.recv() {
                        Ok((i, r, secs)) => {
                            early.insert(i, (r, secs));
                            continue;
                        }
                        // Every helper is gone without this task: one panicked.
                        Err(_) => break,
                    },
                };
                match r {
                    Ok(p) => merge(&tasks[want], p, secs),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
                want += 1;
                gate.set_merged(want);
            }
            gate.halt();
            result
        });
        if let Some(p) = progress {
            p.finish();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Window;
    use std::sync::atomic::AtomicIsize;

    fn tasks(n: usize) -> Vec<Task> {
        (0..n)
            .map(|i| Task {
                plan: i,
                window: Window {
                    col: 0,
                    row: i,
                    width: 1,
                    height: 1,
                },
                zones: Vec::new(),
            })
            .collect()
    }

    fn runner(threads: usize) -> Runner<'static> {
        Runner::new(&RunOptions {
            threads: Some(threads),
            progress: None,
        })
        .unwrap()
    }

    /// A few microseconds to a millisecond of spinning, different per task,
    /// so tasks finish out of order.
    fn busy(i: usize) {
        let until = std::time::Instant::now()
            + std::time::Duration::from_micros(((i * 7919) % 13) as u64 * 80);
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn merges_in_task_order_and_holds_few_results() {
        for threads in [1, 2, 3, 4] {
            let tasks = tasks(300);
            // Tasks started and not yet merged.
            let open = AtomicIsize::new(0);
            let most = AtomicIsize::new(0);
            let mut order = Vec::new();
            runner(threads)
                .run_ordered(
                    &tasks,
                    |_| 1,
                    || 0usize,
                    |done, t| {
                        let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        busy(t.plan);
                        *done += 1;
                        Ok(t.plan * 10)
                    },
                    |t, p, secs| {
                        open.fetch_sub(1, Ordering::SeqCst);
                        assert_eq!(p, t.plan * 10);
                        assert!(secs >= 0.0);
                        order.push(t.plan);
                    },
                )
                .unwrap();
            assert_eq!(order, (0..300).collect::<Vec<_>>(), "{threads} threads");
            // At most 4 × threads tasks ahead of the merge, plus the one
            // being merged.
            let most = most.load(Ordering::SeqCst);
            assert!(
                most <= 4 * threads as isize + 1,
                "{threads} threads held {most} results"
            );
        }
    }

    #[test]
    fn the_first_error_in_task_order_wins() {
        for threads in [1, 2, 4] {
            let tasks = tasks(200);
            let mut merged = Vec::new();
            let err = runner(threads)
                .run_ordered(
                    &tasks,
                    |_| 1,
                    || (),
                    |_, t| {
                        // Task 150 fails fast; task 40 fails slowly, so a
                        // worker may meet 150 first.
                        match t.plan {
                            40 => {
                                busy(5);
                                Err(Error::Invalid("task 40".into()))
                            }
                            150 => Err(Error::Invalid("task 150".into())),
                            _ => Ok(()),
                        }
                    },
                    |t, _, _| merged.push(t.plan),
                )
                .unwrap_err();
            assert!(err.to_string().contains("task 40"), "{err}");
            assert_eq!(merged, (0..40).collect::<Vec<_>>());
        }
    }

    #[test]
    #[should_panic(expected = "task 77 panicked")]
    fn a_panicking_task_ends_the_run_instead_of_hanging() {
        let tasks = tasks(500);
        let _ = runner(2).run_ordered(
            &tasks,
            |_| 1,
            || (),
            |_, t| {
                if t.plan == 77 {
                    panic!("task 77 panicked");
                }
                busy(t.plan);
                Ok(())
            },
            |_, _, _| {},
        );
    }

    #[test]
    #[should_panic(expected = "merge of task 10 panicked")]
    fn a_panicking_merge_releases_the_helpers() {
        let tasks = tasks(500);
        let _ = runner(3).run_ordered(
            &tasks,
            |_| 1,
            || (),
            |_, t| {
                busy(t.plan);
                Ok(())
            },
            |t, _, _| {
                if t.plan == 10 {
                    panic!("merge of task 10 panicked");
                }
            },
        );
    }
}
