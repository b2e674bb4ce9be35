//! The worker threads of a model: how many, on which cores, pinned.
//!
//! By default slimlm uses the big cores only: on a phone the little cores slow every
//! parallel step down to their pace. Big cores are found from each core's cpufreq maximum
//! (Linux and Android): cores within 75% of the fastest core's maximum count as big, which
//! keeps the X4 and A720 cores of a Snapdragon 8 Gen 3 (3.3 and 3.15/2.96 GHz) and drops its
//! A520s (2.27 GHz), and keeps all eight Oryon cores of an 8 Elite (4.32 and 3.53 GHz).
//! Without cpufreq every available core counts.

use std::fs;

/// A thread pool pinned to a set of cores.
pub struct Pool {
    pool: rayon::ThreadPool,
    cpus: Vec<usize>,
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
    /// `threads` workers (default: one per big core) on `cpus` (default: the big cores).
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
        let pin = cpus.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("slimlm-{i}"))
            .start_handler(move |i| {
                if !pin.is_empty() {
                    pin_current_thread(pin[i % pin.len()]);
                }
            })
            .build()
            .map_err(|e| ThreadError::Build(e.to_string()))?;
        Ok(Pool { pool, cpus })
    }

    /// A pool of exactly `threads` unpinned workers (tests, embedding).
    pub fn with_threads(threads: usize) -> Result<Pool, ThreadError> {
        if threads == 0 {
            return Err(ThreadError::ZeroThreads);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| ThreadError::Build(e.to_string()))?;
        Ok(Pool {
            pool,
            cpus: Vec::new(),
        })
    }

    /// Runs `f` inside the pool, so rayon's parallel iterators use its workers.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Runs `f(worker index)` once on every worker at the same time and returns the
    /// results in worker order (benchmarks that load the whole pool at once).
    pub fn broadcast<R: Send>(&self, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
        self.pool.broadcast(|ctx| f(ctx.index()))
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The cores the workers are pinned to (empty: not pinned).
    pub fn cpus(&self) -> &[usize] {
        &self.cpus
    }
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

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pin_current_thread(cpu: usize) {
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

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pin_current_thread(_cpu: usize) {}

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
}
