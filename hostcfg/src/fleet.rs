//! Running one job over many hosts: bounded concurrency, per-host events, isolated failures.
//!
//! Each selected host gets one connection (through a [`Connector`]) and one job call on a pool
//! of `forks` worker threads; a host that fails — at connect time or in its job — is recorded
//! and the others go on. Results come back in the order of the selection, whatever order the
//! hosts finished in. The library never prints: the caller gets [`Event`]s (the CLI turns them
//! into progress bars).
//!
//! [`Shard`] splits a selection deterministically for schedulers that run many copies of the
//! tool (CI matrices, Kubernetes Indexed Jobs): hosts are sorted by name and dealt round-robin,
//! so shard `I` of `N` (0-based) gets the hosts at sorted positions `I`, `I+N`, `I+2N`, …
//! Every host lands in exactly one shard and the split only depends on the names.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::transport::{Connector, Endpoint, Transport};

/// One host to run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The inventory name.
    pub name: String,
    pub endpoint: Endpoint,
}

impl AsRef<Target> for Target {
    fn as_ref(&self) -> &Target {
        self
    }
}

/// What happened on one host, for progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Connecting,
    /// A step of the job began (`download`, `verify`, …).
    Step(String),
    /// Bytes moved so far in a transfer.
    Bytes(u64),
    Finished {
        ok: bool,
    },
}

/// The outcome on one host.
#[derive(Debug)]
pub struct HostOutcome<R> {
    pub name: String,
    pub elapsed: Duration,
    /// The job's result, or the error chain (outermost first) that stopped this host.
    pub result: Result<R, Vec<String>>,
}

/// Runs `job` on every target, at most `forks` at a time.
///
/// `targets` can be any items that carry a [`Target`] (the CLI passes each host's desired state
/// along); the job gets the item back.
pub fn run<T, R, E, J, V>(
    targets: &[T],
    forks: usize,
    connector: &dyn Connector,
    job: J,
    events: V,
) -> Vec<HostOutcome<R>>
where
    T: AsRef<Target> + Sync,
    R: Send,
    E: std::error::Error,
    J: Fn(&T, Box<dyn Transport>, &dyn Fn(Event)) -> Result<R, E> + Sync,
    V: Fn(&str, Event) + Sync,
{
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<HostOutcome<R>>>> =
        targets.iter().map(|_| Mutex::new(None)).collect();
    let workers = forks.clamp(1, targets.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(i) else {
                        break;
                    };
                    let outcome = run_one(target, connector, &job, &events);
                    if let Some(slot) = slots.get(i) {
                        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .zip(targets)
        .map(|(slot, target)| {
            slot.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| HostOutcome {
                    name: target.as_ref().name.clone(),
                    elapsed: Duration::ZERO,
                    result: Err(vec!["the worker running this host stopped".to_string()]),
                })
        })
        .collect()
}

fn run_one<T, R, E, J, V>(
    item: &T,
    connector: &dyn Connector,
    job: &J,
    events: &V,
) -> HostOutcome<R>
where
    T: AsRef<Target>,
    E: std::error::Error,
    J: Fn(&T, Box<dyn Transport>, &dyn Fn(Event)) -> Result<R, E>,
    V: Fn(&str, Event),
{
    let target = item.as_ref();
    let started = Instant::now();
    let emit = |e: Event| events(&target.name, e);
    emit(Event::Connecting);
    let result = match connector.connect(&target.endpoint) {
        Err(e) => Err(chain(&e)),
        Ok(transport) => job(item, transport, &emit).map_err(|e| chain(&e)),
    };
    emit(Event::Finished { ok: result.is_ok() });
    HostOutcome {
        name: target.name.clone(),
        elapsed: started.elapsed(),
        result,
    }
}

/// An error and its causes, outermost first, without repeating a cause the message already
/// contains (thiserror's `transparent` variants).
pub fn chain(err: &dyn std::error::Error) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.iter().any(|o| o.contains(&text)) {
            out.push(text);
        }
        source = cause.source();
    }
    out
}

/// `--shard I/N`: this run's part of the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, below `count`.
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 <= I < N` (Kubernetes' `JOB_COMPLETION_INDEX` is 0-based).
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s:?}: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The targets of this shard, in sorted-name order.
    pub fn select(&self, targets: &[Target]) -> Vec<Target> {
        let mut sorted: Vec<&Target> = targets.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        sorted
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i.checked_rem(self.count) == Some(self.index))
            .map(|(_, t)| t.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{ExecOutput, TransportError};

    fn target(name: &str) -> Target {
        Target {
            name: name.to_string(),
            endpoint: Endpoint {
                address: name.to_string(),
                port: 22,
                user: "root".to_string(),
            },
        }
    }

    struct Echo(String);
    impl Transport for Echo {
        fn describe(&self) -> String {
            self.0.clone()
        }
        fn exec(&self, _: &str) -> Result<ExecOutput, TransportError> {
            Ok(ExecOutput::default())
        }
        fn download(
            &self,
            _: &str,
            _: &mut dyn std::io::Write,
            _: &mut dyn FnMut(u64),
        ) -> Result<u64, TransportError> {
            Ok(0)
        }
        fn upload(&self, _: &mut dyn std::io::Read, _: u64, _: &str) -> Result<(), TransportError> {
            Ok(())
        }
    }

    /// Refuses hosts whose name starts with `down`.
    struct Lab;
    impl Connector for Lab {
        fn connect(&self, e: &Endpoint) -> Result<Box<dyn Transport>, TransportError> {
            if e.address.starts_with("down") {
                return Err(TransportError::Connect {
                    target: e.to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
                });
            }
            Ok(Box::new(Echo(e.address.clone())))
        }
    }

    #[test]
    fn failures_stay_with_their_host_and_order_is_kept() {
        let targets: Vec<Target> = ["a", "down1", "c", "d", "e"]
            .iter()
            .map(|n| target(n))
            .collect();
        let peak = AtomicUsize::new(0);
        let running = AtomicUsize::new(0);
        let events = Mutex::new(Vec::new());
        let out = run(
            &targets,
            2,
            &Lab,
            |t, transport, emit| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                emit(Event::Step("work".into()));
                std::thread::sleep(Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                if t.name == "d" {
                    return Err(std::io::Error::other("job failed on d"));
                }
                Ok(transport.describe())
            },
            |host, e| events.lock().unwrap().push((host.to_string(), e)),
        );
        let names: Vec<&str> = out.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "down1", "c", "d", "e"]);
        assert_eq!(out[0].result.as_ref().unwrap(), "a");
        assert!(out[1].result.as_ref().unwrap_err()[0].contains("refused"));
        assert!(out[3].result.as_ref().unwrap_err()[0].contains("job failed on d"));
        assert!(out[4].result.is_ok());
        assert!(peak.load(Ordering::SeqCst) <= 2);
        let events = events.into_inner().unwrap();
        assert!(events.contains(&("down1".to_string(), Event::Finished { ok: false })));
        assert!(events.contains(&("e".to_string(), Event::Finished { ok: true })));
    }

    #[test]
    fn shards_partition_the_sorted_names() {
        let targets: Vec<Target> = ["e", "b", "a", "d", "c"]
            .iter()
            .map(|n| target(n))
            .collect();
        let shards: Vec<Vec<String>> = (0..2)
            .map(|i| {
                Shard { index: i, count: 2 }
                    .select(&targets)
                    .into_iter()
                    .map(|t| t.name)
                    .collect()
            })
            .collect();
        assert_eq!(shards, [vec!["a", "c", "e"], vec!["b", "d"]]);
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
