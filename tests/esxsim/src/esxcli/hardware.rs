//! `esxcli hardware …`.

use super::args::Opts;
use super::output::{Output, Struct, Value, strings, structs};
use crate::cpu;
use crate::state::State;

pub fn cpu_global_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let c = &st.cpu;
    let cores = c.packages.saturating_mul(c.cores_per_package);
    let threads = if c.hyperthreading {
        cores.saturating_mul(c.threads_per_core)
    } else {
        cores
    };
    let s = Struct::new("Cpu")
        .shown("CPUPackages", "CPU Packages", Value::Int(c.packages.into()))
        .shown("CPUCores", "CPU Cores", Value::Int(cores.into()))
        .shown("CPUThreads", "CPU Threads", Value::Int(threads.into()))
        .bool("HyperthreadingActive", c.hyperthreading)
        .bool("HyperthreadingSupported", c.threads_per_core > 1)
        .bool("HyperthreadingEnabled", c.hyperthreading)
        .shown("HVSupport", "HV Support", Value::Int(c.hv_support.into()))
        .shown("HVReplayCapable", "HV Replay Capable", Value::Bool(false))
        .shown(
            "HVReplayDisabledReasons",
            "HV Replay Disabled Reasons",
            strings(&["HV Replay is not supported on this platform".into()]),
        );
    Ok(Output::records(Value::Struct(s), None))
}

pub fn cpu_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let c = &st.cpu;
    let model = cpu::model(&c.model).ok_or_else(|| format!("unknown CPU model {:?}", c.model))?;
    let (family, display_model, stepping) = model.family_model_stepping();
    let per_package = c.cores_per_package.saturating_mul(if c.hyperthreading {
        c.threads_per_core
    } else {
        1
    });
    let total = c.packages.saturating_mul(per_package);
    let items = (0..total)
        .map(|id| {
            let package = id / per_package.max(1);
            Struct::new("CpuInfo")
                .int("Id", id.into())
                .int("PackageId", package.into())
                .int("Family", family.into())
                .int("Model", display_model.into())
                .int("Type", 0)
                .int("Stepping", stepping.into())
                .str("Brand", model.brand)
                .int("CoreSpeed", i64::try_from(c.hz).unwrap_or(i64::MAX))
                .int("BusSpeed", 99_999_988)
                .shown("APICID", "APIC ID", Value::Str(format!("{:#x}", id)))
                .int("Node", package.into())
                .shown("L2CacheSize", "L2 Cache Size", Value::Int(1_048_576))
                .shown(
                    "L2CacheAssociativity",
                    "L2 Cache Associativity",
                    Value::Int(16),
                )
                .shown("L2CacheLineSize", "L2 Cache Line Size", Value::Int(64))
                .shown("L2CacheCPUCount", "L2 Cache CPU Count", Value::Int(2))
                .shown("L3CacheSize", "L3 Cache Size", Value::Int(23_068_672))
                .shown(
                    "L3CacheAssociativity",
                    "L3 Cache Associativity",
                    Value::Int(11),
                )
                .shown("L3CacheLineSize", "L3 Cache Line Size", Value::Int(64))
                .shown(
                    "L3CacheCPUCount",
                    "L3 Cache CPU Count",
                    Value::Int(per_package.into()),
                )
        })
        .collect();
    Ok(Output::records(structs(items), Some("CPU:%Id%")))
}

pub fn platform_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let h = &st.host;
    let s = Struct::new("PlatformGet")
        .shown("UUID", "UUID", Value::Str(h.uuid.clone()))
        .shown("ProductName", "Product Name", Value::Str(h.model.clone()))
        .shown("VendorName", "Vendor Name", Value::Str(h.vendor.clone()))
        .shown(
            "SerialNumber",
            "Serial Number",
            Value::Str(h.serial.clone()),
        )
        .shown(
            "EnclosureSerialNumber",
            "Enclosure Serial Number",
            Value::Str(h.serial.clone()),
        )
        .shown("BIOSAssetTag", "BIOS Asset Tag", Value::Str(String::new()))
        .shown("IPMISupported", "IPMI Supported", Value::Bool(true));
    Ok(Output::records(
        Value::Struct(s),
        Some("Platform Information"),
    ))
}

pub fn memory_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    let bytes = i64::try_from(st.host.memory_bytes).unwrap_or(i64::MAX);
    let s = Struct::new("MemoryInfo")
        .with_unit(
            "PhysicalMemory",
            "Physical Memory",
            Value::Int(bytes),
            "Bytes",
        )
        .with_unit("ReliableMemory", "Reliable Memory", Value::Int(0), "Bytes")
        .shown(
            "NUMANodeCount",
            "NUMA Node Count",
            Value::Int(st.cpu.packages.into()),
        );
    Ok(Output::records(Value::Struct(s), None))
}
