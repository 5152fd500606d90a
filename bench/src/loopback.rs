//! The reference cost of moving bytes: one copy of a payload over a loopback TCP connection.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::report::median;

/// Median time, over `rounds`, to send `size` bytes to a loopback peer that reads them all and
/// answers one byte.
pub async fn copy_time(size: usize, rounds: usize) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let mut buffer = vec![0_u8; size];
        for _ in 0..rounds {
            stream.read_exact(&mut buffer).await?;
            stream.write_all(&[1]).await?;
        }
        anyhow::Ok(())
    });
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let payload = vec![7_u8; size];
    let mut times = Vec::with_capacity(rounds);
    let mut ack = [0_u8; 1];
    for _ in 0..rounds {
        let started = Instant::now();
        stream.write_all(&payload).await?;
        stream.read_exact(&mut ack).await?;
        times.push(started.elapsed());
    }
    peer.await??;
    Ok(median(times))
}
