//! The worker threads of a model: how many, on which cores, pinned, and how a parallel step
//! reaches them.
//!
//! By default slimlm uses the big cores only: on a phone the little cores slow every
//! parallel step down to their pace. Big cores are found from each core's cpufreq maximum
//! (Linux and Android): cores within 75% of the fastest core's maximum count as big, which
//! keeps the X4 and A720 cores of a Snapdragon 8 Gen 3 (3.3 and 3.15/2.96 GHz) and drops its
//! A520s (2.27 GHz), and keeps all eight Oryon cores of an 8 Elite (4.32 and 3.53 GHz).
//! Without cpufreq every available core counts.
//!
//! Decoding one token of a 135M model is ~250 parallel steps of 5-50 us each, so the cost
//! of starting a step decides the speed: a worker that sleeps between steps needs a futex
//! wake-up (tens of us) per step. The pool therefore keeps its workers spinning on a
//! generation counter for [`SPIN_BEFORE_SLEEP`] after each step (the next step of the
//! token arrives well within that), and only then parks them; the calling thread takes
//! part in every step (with `--threads N` there are N - 1 workers), claiming tasks from
//! the same atomic counter as the workers.

use std::cell::{Cell, UnsafeCell};
use std::fs;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A pool of `threads - 1` worker threads (pinned to cores when asked) plus the thread
/// that calls it.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    cpus: Vec<usize>,
    /// One job at a time: callers on other threads wait here.
    caller: Mutex<()>,
}

/// After its last step a worker spins this long before it parks.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_millis(2);

/// A job: called once by every participant with its index (0 = the caller).
type Job<'a> = dyn Fn(usize) + Sync + 'a;

/// What the caller and the workers share.
struct Shared {
    /// Bumped by the caller to publish a job (and to ask the workers to exit).
    generation: AtomicU64,
    /// The current job, valid from its generation's bump until `pending` is zero.
    job: JobSlot,
    /// Workers that have not finished the current generation.
    pending: AtomicUsize,
    /// Set when a task panicked in a worker; the caller panics after the step.
    panicked: AtomicBool,
    shutdown: AtomicBool,
    /// Parallel steps run so far (every `run_on_all`: one publish and one barrier).
    steps: AtomicU64,
    /// Workers parked (or about to park) on `wake`.
    sleepers: AtomicUsize,
    sleep_lock: Mutex<()>,
    wake: Condvar,
}

/// The job pointer with its lifetime erased (see [`Pool::run_on_all`]).
struct JobSlot(UnsafeCell<Option<*const Job<'static>>>);

// SAFETY: the slot is written only by the caller while no worker reads it (before the
// generation bump that publishes it, after every worker has finished the previous one,
// with release/acquire ordering through `generation` and `pending`); the job it points
// to is `Sync`.
unsafe impl Sync for JobSlot {}
// SAFETY: as above; the pointer is only dereferenced under that protocol.
unsafe impl Send for JobSlot {}

thread_local! {
    /// Set on worker threads and on a caller during its job: a nested parallel call
    /// runs inline instead of waiting for itself.
    static INSIDE_POOL: Cell<bool> = const { Cell::new(false) };
}

/// Why a thread configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ThreadError {
    #[error("--threads must be at least 1")]
    ZeroThreads,
    #[error("--threads {requested} is more than the {available} CPUs this process may use")]
    TooManyThreads { requested: usize, available: usize },
    #[error("--cpus {list:?}: {reason}")]
    BadCpuList { list: String, reason: String },
    #[error("cannot start worker threads: {0}")]
    Build(String),
}

impl Pool {
    /// `threads` participants (default: one per big core) on `cpus` (default: the big
    /// cores). Worker `i` (1..threads) is pinned to `cpus[i % cpus.len()]`; the calling
    /// thread is not touched (the CLI pins its own thread to `cpus[0]`, see
    /// [`pin_current_thread`]).
    pub fn new(threads: Option<usize>, cpus: Option<&str>) -> Result<Pool, ThreadError> {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpus = match cpus {
            Some(list) => parse_cpu_list(list)?,
            None => big_cores().unwrap_or_default(),
        };
        let threads = match threads {
            Some(0) => return Err(ThreadError::ZeroThreads),
            Some(n) if n > available.max(cpus.len()) => {
                return Err(ThreadError::TooManyThreads {
                    requested: n,
                    available: available.max(cpus.len()),
                })
            }
            Some(n) => n,
            None if !cpus.is_empty() => cpus.len().min(available),
            None => available,
        };
        Pool::start(threads, cpus)
    }

    /// A pool of exactly `threads` unpinned participants (tests, embedding).
    pub fn with_threads(threads: usize) -> Result<Pool, ThreadError> {
        if threads == 0 {
            return Err(ThreadError::ZeroThreads);
        }
        Pool::start(threads, Vec::new())
    }

    fn start(threads: usize, cpus: Vec<usize>) -> Result<Pool, ThreadError> {
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            job: JobSlot(UnsafeCell::new(None)),
            pending: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            steps: AtomicU64::new(0),
            sleepers: AtomicUsize::new(0),
            sleep_lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let mut pool = Pool {
            shared: Arc::clone(&shared),
            workers: Vec::with_capacity(threads - 1),
            cpus: cpus.clone(),
            caller: Mutex::new(()),
        };
        for index in 1..threads {
            let shared = Arc::clone(&shared);
            let cpu = (!cpus.is_empty()).then(|| cpus[index % cpus.len()]);
            let worker = std::thread::Builder::new()
                .name(format!("slimlm-{index}"))
                .spawn(move || {
                    if let Some(cpu) = cpu {
                        pin_current_thread(cpu);
                    }
                    worker_loop(&shared, index);
                })
                .map_err(|e| ThreadError::Build(e.to_string()))?;
            // On an error above, dropping `pool` stops the workers started so far.
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// Participants of every step: the workers and the caller.
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// How many parallel steps (a job published to the workers and waited for: one
    /// barrier each) this pool has run. Work that fits one task runs on the calling
    /// thread and is not a step.
    pub fn parallel_steps(&self) -> u64 {
        self.shared.steps.load(Ordering::Relaxed)
    }

    /// The cores the workers are pinned to (empty: not pinned).
    pub fn cpus(&self) -> &[usize] {
        &self.cpus
    }

    /// Calls `f(task, participant)` once for every `task` in `0..tasks`, spread over the
    /// participants (`participant` in `0..threads()`, for per-thread scratch), and returns
    /// when all are done. Tasks are claimed in order from one counter, so the split
    /// depends on timing: callers make each task's result independent of it.
    pub fn for_each_task(&self, tasks: usize, f: impl Fn(usize, usize) + Sync) {
        if tasks == 0 {
            return;
        }
        if tasks == 1 || self.workers.is_empty() || INSIDE_POOL.with(Cell::get) {
            (0..tasks).for_each(|t| f(t, 0));
            return;
        }
        let next = AtomicUsize::new(0);
        self.run_on_all(&|participant| loop {
            let task = next.fetch_add(1, Ordering::Relaxed);
            if task >= tasks {
                break;
            }
            f(task, participant);
        });
    }

    /// Splits `data` into chunks of `chunk` elements (the last may be shorter) and calls
    /// `f(index, chunk, participant)` for each, in parallel as [`Pool::for_each_task`].
    pub fn for_each_chunk_mut<T: Send>(
        &self,
        data: &mut [T],
        chunk: usize,
        f: impl Fn(usize, &mut [T], usize) + Sync,
    ) {
        assert!(chunk > 0, "chunks of zero elements");
        let len = data.len();
        let base = SendPtr(data.as_mut_ptr());
        self.for_each_task(len.div_ceil(chunk), |task, participant| {
            let start = task * chunk;
            let n = chunk.min(len - start);
            // SAFETY: `data` is mutably borrowed for this whole call, each task index runs
            // exactly once, and the chunks `start..start + n` of different tasks are
            // disjoint ranges inside `data`.
            let part = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), n) };
            f(task, part, participant);
        });
    }

    /// Runs `f(participant)` once on every participant at the same time and returns the
    /// results in participant order (benchmarks that load the whole pool at once).
    pub fn broadcast<R: Send>(&self, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
        if self.workers.is_empty() || INSIDE_POOL.with(Cell::get) {
            return vec![f(0)];
        }
        let results: Vec<Mutex<Option<R>>> =
            (0..self.threads()).map(|_| Mutex::new(None)).collect();
        self.run_on_all(&|participant| {
            let r = f(participant);
            *results[participant]
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(r);
        });
        results
            .into_iter()
            .map(|r| {
                r.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every participant ran the broadcast")
            })
            .collect()
    }

    /// Publishes `job` to the workers, runs it on this thread as participant 0, waits for
    /// every worker to finish it, and re-raises a panic from any participant.
    fn run_on_all(&self, job: &Job<'_>) {
        let _one_job = self.caller.lock().unwrap_or_else(|e| e.into_inner());
        let s = &*self.shared;
        // SAFETY: only the lifetime is erased. The pointer is published below and read by
        // workers only until they decrement `pending`; this function does not return (or
        // unwind) before `pending` is zero, so `job` outlives every use.
        let erased: *const Job<'static> =
            unsafe { std::mem::transmute::<&Job<'_>, &'static Job<'static>>(job) };
        // SAFETY: every worker finished the previous generation (`pending` was zero when
        // the previous call returned, with acquire ordering) and none reads the slot until
        // it sees the bump below, so nothing reads it concurrently with this write.
        unsafe { *s.job.0.get() = Some(erased) };
        s.pending.store(self.workers.len(), Ordering::Relaxed);
        s.steps.fetch_add(1, Ordering::Relaxed);
        s.generation.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _g = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        INSIDE_POOL.with(|c| c.set(true));
        let mine = std::panic::catch_unwind(AssertUnwindSafe(|| job(0)));
        INSIDE_POOL.with(|c| c.set(false));
        let mut spins = 0u32;
        while s.pending.load(Ordering::Acquire) != 0 {
            spin_or_yield(&mut spins);
        }
        // SAFETY: no worker reads the slot any more (pending is zero).
        unsafe { *s.job.0.get() = None };
        if let Err(payload) = mine {
            std::panic::resume_unwind(payload);
        }
        if s.panicked.swap(false, Ordering::Relaxed) {
            panic!("a task panicked on a worker thread (its message is printed above)");
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.shutdown.store(true, Ordering::SeqCst);
        s.generation.fetch_add(1, Ordering::SeqCst);
        {
            let _g = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A raw pointer that may cross threads ([`Pool::for_each_chunk_mut`] makes the accesses
/// disjoint).
struct SendPtr<T>(*mut T);
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
// SAFETY: used only for disjoint chunks of a slice of `T: Send`, each touched by one task.
unsafe impl<T: Send> Send for SendPtr<T> {}
// SAFETY: as above: the pointer itself is only copied, never used for shared access.
unsafe impl<T: Send> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// A method (not field access) so closures capture the whole wrapper.
    fn get(self) -> *mut T {
        self.0
    }
}

/// Spins a while, then yields the core (another process may need it to let us go on).
fn spin_or_yield(spins: &mut u32) {
    if *spins < 1 << 16 {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// A worker: waits for each new generation, runs its job, reports completion.
fn worker_loop(s: &Shared, index: usize) {
    INSIDE_POOL.with(|c| c.set(true));
    let mut seen = 0u64;
    loop {
        seen = wait_for_generation(s, seen);
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: the caller wrote the slot before bumping the generation we observed
        // (SeqCst), and keeps the job alive until we decrement `pending` below.
        let job = unsafe { (*s.job.0.get()).expect("a published job") };
        // SAFETY: see above: the pointee lives until `pending` reaches zero.
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(index) }));
        if run.is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.pending.fetch_sub(1, Ordering::Release);
    }
}

/// Returns the first generation after `seen`: spins for [`SPIN_BEFORE_SLEEP`], then parks.
fn wait_for_generation(s: &Shared, seen: u64) -> u64 {
    let started = Instant::now();
    let mut polls = 0u32;
    loop {
        let g = s.generation.load(Ordering::SeqCst);
        if g != seen {
            return g;
        }
        std::hint::spin_loop();
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(1024) && started.elapsed() > SPIN_BEFORE_SLEEP {
            break;
        }
    }
    let mut guard = s.sleep_lock.lock().unwrap_or_else(|e| e.into_inner());
    s.sleepers.fetch_add(1, Ordering::SeqCst);
    let g = loop {
        let g = s.generation.load(Ordering::SeqCst);
        if g != seen {
            break g;
        }
        guard = s.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
    };
    s.sleepers.fetch_sub(1, Ordering::SeqCst);
    g
}

/// Parses "0-3,6,7" style lists.
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>, ThreadError> {
    let bad = |reason: &str| ThreadError::BadCpuList {
        list: list.into(),
        reason: reason.into(),
    };
    let mut cpus = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let lo: usize = lo.parse().map_err(|_| bad("not a CPU number"))?;
        let hi: usize = hi.parse().map_err(|_| bad("not a CPU number"))?;
        if lo > hi || hi >= 4096 {
            return Err(bad("range out of order or beyond CPU 4095"));
        }
        for cpu in lo..=hi {
            if !cpus.contains(&cpu) {
                cpus.push(cpu);
            }
        }
    }
    if cpus.is_empty() {
        return Err(bad("no CPUs listed"));
    }
    Ok(cpus)
}

/// The big cores from cpufreq maxima, or `None` where cpufreq is not readable.
pub fn big_cores() -> Option<Vec<usize>> {
    let mut freqs = Vec::new();
    for entry in fs::read_dir("/sys/devices/system/cpu").ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_prefix("cpu")) else {
            continue;
        };
        let Ok(id) = id.parse::<usize>() else {
            continue;
        };
        let path = entry.path().join("cpufreq/cpuinfo_max_freq");
        if let Some(khz) = fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            freqs.push((id, khz));
        }
    }
    select_big(&freqs)
}

/// Cores whose maximum frequency is within 75% of the fastest (see the module docs).
fn select_big(freqs: &[(usize, u64)]) -> Option<Vec<usize>> {
    let top = freqs.iter().map(|&(_, f)| f).max()?;
    let mut big: Vec<usize> = freqs
        .iter()
        .filter(|&&(_, f)| f * 4 >= top * 3)
        .map(|&(id, _)| id)
        .collect();
    big.sort_unstable();
    Some(big)
}

/// Pins the calling thread to `cpu` (Linux and Android; elsewhere a no-op).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn pin_current_thread(cpu: usize) {
    // SAFETY: cpu_set_t is plain data that CPU_ZERO/CPU_SET initialise; sched_setaffinity
    // reads `size_of::<cpu_set_t>()` bytes from a valid pointer to it. Pid 0 is this
    // thread. A failure (e.g. the CPU is offline) leaves the thread unpinned, which only
    // costs speed, so it is logged and not fatal.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            log::warn!(
                "could not pin a worker to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Pins the calling thread to `cpu` (Linux and Android; elsewhere a no-op).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn pin_current_thread(_cpu: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0-3,6").unwrap(), vec![0, 1, 2, 3, 6]);
        assert_eq!(parse_cpu_list(" 2 , 2,1").unwrap(), vec![2, 1]);
        for bad in ["", "a", "3-1", "0-99999", ","] {
            assert!(parse_cpu_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn big_cores_of_snapdragon_layouts() {
        // 8 Gen 3: cpu0-1 A520 2.27 GHz, cpu2-4 A720 2.96, cpu5-6 A720 3.15, cpu7 X4 3.3.
        let gen3: Vec<(usize, u64)> = [
            2265600, 2265600, 2956800, 2956800, 2956800, 3148800, 3148800, 3302400,
        ]
        .into_iter()
        .enumerate()
        .collect();
        assert_eq!(select_big(&gen3).unwrap(), vec![2, 3, 4, 5, 6, 7]);
        // 8 Elite: 6 x 3.53 GHz and 2 x 4.32 GHz Oryon: all are big.
        let elite: Vec<(usize, u64)> = [3532800; 6]
            .into_iter()
            .chain([4320000; 2])
            .enumerate()
            .collect();
        assert_eq!(select_big(&elite).unwrap().len(), 8);
        assert_eq!(select_big(&[]), None);
    }

    #[test]
    fn zero_and_too_many_threads_are_errors() {
        assert!(matches!(
            Pool::new(Some(0), None),
            Err(ThreadError::ZeroThreads)
        ));
        assert!(matches!(
            Pool::new(Some(100_000), None),
            Err(ThreadError::TooManyThreads { .. })
        ));
    }

    #[test]
    fn every_task_runs_once_on_a_valid_participant() {
        for threads in 1..=4 {
            let pool = Pool::with_threads(threads).unwrap();
            for tasks in [0, 1, 2, 7, 1000] {
                let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
                pool.for_each_task(tasks, |t, p| {
                    assert!(p < threads);
                    counts[t].fetch_add(1, Ordering::Relaxed);
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            }
        }
    }

    #[test]
    fn chunks_are_disjoint_and_cover_the_slice() {
        let pool = Pool::with_threads(3).unwrap();
        let mut data = vec![0usize; 1001];
        pool.for_each_chunk_mut(&mut data, 10, |i, chunk, _| {
            assert!(chunk.len() == 10 || (i == 100 && chunk.len() == 1));
            for (j, v) in chunk.iter_mut().enumerate() {
                *v += i * 10 + j;
            }
        });
        assert!(data.iter().enumerate().all(|(i, &v)| v == i));
    }

    #[test]
    fn broadcast_runs_once_per_participant_in_order() {
        let pool = Pool::with_threads(3).unwrap();
        for _ in 0..100 {
            assert_eq!(pool.broadcast(|p| p * 10), vec![0, 10, 20]);
        }
    }

    #[test]
    fn nested_steps_run_inline() {
        let pool = Pool::with_threads(2).unwrap();
        let total = AtomicUsize::new(0);
        pool.for_each_task(4, |_, _| {
            pool.for_each_task(3, |_, p| {
                assert_eq!(p, 0);
                total.fetch_add(1, Ordering::Relaxed);
            })
        });
        assert_eq!(total.load(Ordering::Relaxed), 12);
    }

    #[test]
    fn a_panicking_task_panics_the_caller_and_the_pool_still_works() {
        let pool = Pool::with_threads(2).unwrap();
        for bad in [0, 5] {
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
                pool.for_each_task(8, |t, _| assert!(t != bad, "task {t} fails"));
            }));
            assert!(r.is_err());
        }
        let n = AtomicUsize::new(0);
        pool.for_each_task(8, |_, _| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(n.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn parked_workers_wake_for_the_next_step() {
        let pool = Pool::with_threads(2).unwrap();
        std::thread::sleep(SPIN_BEFORE_SLEEP * 3);
        assert_eq!(pool.broadcast(|p| p), vec![0, 1]);
    }

    #[test]
    fn callers_on_several_threads_take_turns() {
        let pool = Pool::with_threads(2).unwrap();
        let n = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    for _ in 0..200 {
                        pool.for_each_task(5, |_, _| {
                            n.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        assert_eq!(n.load(Ordering::Relaxed), 3 * 200 * 5);
    }
}
