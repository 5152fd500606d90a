//! The cap on open connections per client address (`MAX_CONNECTIONS_PER_IP`): a connection
//! beyond it is shut down as soon as it is accepted, before anything is read from it, so one
//! client cannot hold the instance's file descriptors. The address is the TCP peer's: behind a
//! proxy every client shares the proxy's count, so raise the setting or switch it off (0) there.
//! The total per instance is actix's own `max_connections` (see `MAX_CONNECTIONS`).

use std::any::Any;
use std::collections::HashMap;
use std::net::{IpAddr, Shutdown};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

type OpenConnections = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Counts open connections per client address.
#[derive(Clone, Default)]
pub struct ConnectionLimiter {
    per_ip: usize,
    open: OpenConnections,
}

impl ConnectionLimiter {
    /// A limiter allowing `per_ip` open connections per address (0: no limit).
    pub fn new(per_ip: usize) -> Self {
        Self {
            per_ip,
            open: OpenConnections::default(),
        }
    }

    /// The server's `on_connect` hook: keeps a slot in the connection's data for as long as
    /// the connection lives, or shuts the connection down when its address has no slot left.
    pub fn on_connect(&self, connection: &dyn Any, data: &mut Extensions) {
        if self.per_ip == 0 {
            return;
        }
        let Some(stream) = connection.downcast_ref::<TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        match self.acquire(peer.ip()) {
            Some(slot) => {
                data.insert(slot);
            }
            None => {
                metrics::counter!("picture_connections_refused_total", "limit" => "ip")
                    .increment(1);
                tracing::debug!(peer = %peer.ip(), "connection refused: too many from this address");
                if let Err(error) = socket2::SockRef::from(stream).shutdown(Shutdown::Both) {
                    tracing::debug!(%error, "shutting a refused connection down failed");
                }
            }
        }
    }

    /// Open connections from `ip` (for tests and metrics).
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&ip)
            .copied()
            .unwrap_or(0)
    }

    fn acquire(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.per_ip {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            ip,
            open: Arc::clone(&self.open),
        })
    }
}

/// One open connection's place in its address's count, given back when the connection ends.
struct ConnectionSlot {
    ip: IpAddr,
    open: OpenConnections,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let limiter = ConnectionLimiter::new(2);
        let first: IpAddr = [10, 0, 0, 1].into();
        let second: IpAddr = [10, 0, 0, 2].into();
        let a = limiter.acquire(first);
        let b = limiter.acquire(first);
        assert!(a.is_some() && b.is_some());
        assert!(limiter.acquire(first).is_none(), "a third one is refused");
        assert!(limiter.acquire(second).is_some(), "other addresses are not");
        drop(a);
        assert_eq!(limiter.open_from(first), 1);
        assert!(
            limiter.acquire(first).is_some(),
            "a slot given back is free"
        );
        drop(b);
    }
}
