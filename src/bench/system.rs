//! What a benchmark report says about the machine: CPU model and peak resident memory.

use std::fs;

/// The CPU's model as /proc/cpuinfo names it: "model name" on x86, "Hardware" on many
/// Android kernels, else the ARM implementer/part pairs of the cores ("0x41:0xd82 x1, ..."),
/// or "unknown".
pub fn cpu_model() -> String {
    let Ok(info) = fs::read_to_string("/proc/cpuinfo") else {
        return "unknown".into();
    };
    cpu_model_from(&info)
}

fn cpu_model_from(info: &str) -> String {
    let field = |line: &str, key: &str| -> Option<String> {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    };
    for key in ["model name", "Hardware"] {
        if let Some(v) = info.lines().find_map(|l| field(l, key)) {
            return v;
        }
    }
    // ARM: count cores per (implementer, part).
    let mut parts: Vec<(String, usize)> = Vec::new();
    let mut implementer = String::new();
    for line in info.lines() {
        if let Some(v) = field(line, "CPU implementer") {
            implementer = v;
        } else if let Some(v) = field(line, "CPU part") {
            let id = format!("{implementer}:{v}");
            match parts.iter_mut().find(|(p, _)| *p == id) {
                Some((_, n)) => *n += 1,
                None => parts.push((id, 1)),
            }
        }
    }
    if parts.is_empty() {
        return "unknown".into();
    }
    parts
        .iter()
        .map(|(p, n)| format!("{p} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Peak resident set size of this process in bytes (getrusage), if the OS reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    // SAFETY: getrusage writes a `rusage` struct through the valid pointer we pass; a
    // zeroed rusage is a valid value of that plain-data struct.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return None;
        }
        usage
    };
    // Linux and Android report kilobytes.
    u64::try_from(usage.ru_maxrss).ok().map(|kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_models_of_x86_android_and_plain_arm() {
        assert_eq!(
            cpu_model_from("processor\t: 0\nmodel name\t: AMD EPYC 9R14\n"),
            "AMD EPYC 9R14"
        );
        assert_eq!(
            cpu_model_from("Processor\t: AArch64\nHardware\t: Qualcomm SM8650\n"),
            "Qualcomm SM8650"
        );
        let arm = "CPU implementer\t: 0x41\nCPU part\t: 0xd80\n\
                   CPU implementer\t: 0x41\nCPU part\t: 0xd80\n\
                   CPU implementer\t: 0x41\nCPU part\t: 0xd82\n";
        assert_eq!(cpu_model_from(arm), "0x41:0xd80 x2, 0x41:0xd82 x1");
        assert_eq!(cpu_model_from(""), "unknown");
    }

    #[test]
    fn peak_rss_is_reported() {
        assert!(peak_rss_bytes().unwrap() > 0);
    }
}
