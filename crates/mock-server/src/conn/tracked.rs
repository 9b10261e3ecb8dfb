//! The socket as hyper sees it: every read and write updates the connection's
//! [`ConnState`], and hyper's own bodyless rejection head is swapped for a full problem
//! response ([`Rejects`]).
//!
//! hyper answers a request it cannot parse itself, with a status line, `content-length: 0`
//! and no body, then closes; it offers no hook to change that response. It is recognisable on
//! the wire: a 400, 414 or 431 head with no `content-type`, which no response of the app
//! has (every app error carries a body). That head is the last thing hyper writes on the
//! connection, so replacing it cannot desynchronise anything.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::activity::ConnState;
use super::reject::Rejects;
use crate::harness::Disconnect;

/// How the next response is to break the connection, if at all: set by the service (a fault
/// rule fired), carried out by [`Tracked`] when hyper writes that response.
#[derive(Debug, Default)]
pub(crate) struct Breaking(AtomicU8);

impl Breaking {
    pub(crate) fn set(&self, disconnect: Disconnect) {
        let code = match disconnect {
            Disconnect::Reset => 1,
            Disconnect::Close => 2,
            Disconnect::Truncate => 3,
        };
        self.0.store(code, Ordering::Relaxed);
    }

    /// One relaxed load on every write: what a connection no rule breaks pays.
    fn get(&self) -> Option<Disconnect> {
        match self.0.load(Ordering::Relaxed) {
            1 => Some(Disconnect::Reset),
            2 => Some(Disconnect::Close),
            3 => Some(Disconnect::Truncate),
            _ => None,
        }
    }
}

/// How many bytes of a request head are kept to find its path (for the SCIM envelope).
const HEAD_PREFIX: usize = 256;

/// After a rejection, how much of the rest of the request is read and thrown away before the
/// socket is closed, so the client reads the answer rather than a reset (nginx's
/// "lingering close").
const LINGER_BYTES: usize = 1 << 20;

/// A [`TcpStream`] that reports activity and rewrites hyper's rejections.
pub(crate) struct Tracked {
    inner: TcpStream,
    state: Arc<ConnState>,
    rejects: Arc<Rejects>,
    /// The first bytes of the request head being read.
    head: Vec<u8>,
    /// A rejection still to be written, from `written` on.
    out: Vec<u8>,
    written: usize,
    /// A rejection replaced hyper's head: drain the request before closing.
    rejected: bool,
    /// Bytes read and discarded after a rejection; `None` until the write side is shut.
    lingered: Option<usize>,
    breaking: Arc<Breaking>,
    /// The connection was broken on purpose: every later write fails.
    broken: bool,
}

impl Tracked {
    pub(crate) fn new(
        inner: TcpStream,
        state: Arc<ConnState>,
        rejects: Arc<Rejects>,
        breaking: Arc<Breaking>,
    ) -> Tracked {
        Tracked {
            breaking,
            broken: false,
            inner,
            state,
            rejects,
            head: Vec::new(),
            out: Vec::new(),
            written: 0,
            rejected: false,
            lingered: None,
        }
    }

    /// Writes what is left of a rejection.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
            self.state.touch();
        }
        Poll::Ready(Ok(()))
    }

    /// Breaks the connection as a fault rule asked, in place of writing `buf` (the start of
    /// the response): `Some` when it did.
    ///
    /// - Reset: `SO_LINGER` 0, and the write fails, so hyper drops the socket, which the
    ///   kernel then closes with a RST.
    /// - Close: the write fails before anything is sent; the socket is closed with a FIN.
    /// - Truncate: the head and half the body in `buf` are queued, the write reports all of
    ///   `buf` taken, and the flush after it sends what was queued, shuts the socket down and
    ///   fails, so hyper closes the connection.
    fn break_off(&mut self, buf: &[u8], cx: &mut Context<'_>) -> Option<Poll<io::Result<usize>>> {
        if self.broken {
            return Some(Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())));
        }
        let disconnect = self.breaking.get()?;
        self.broken = true;
        Some(match disconnect {
            Disconnect::Reset => {
                let _ = self.inner.set_zero_linger();
                Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
            }
            Disconnect::Close => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            Disconnect::Truncate => {
                let body_start = buf
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(buf.len(), |end| end + 4);
                let cut = body_start + (buf.len() - body_start) / 2;
                self.out = buf[..cut].to_vec();
                self.written = 0;
                match self.poll_drain(cx) {
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    _ => Poll::Ready(Ok(buf.len())),
                }
            }
        })
    }

    /// If `buf` is hyper's rejection head, queues the full response instead and says so.
    fn substitute(&mut self, buf: &[u8], cx: &mut Context<'_>) -> Option<Poll<io::Result<usize>>> {
        if self.rejected {
            return None;
        }
        let status = rejection_status(buf)?;
        self.out = self.rejects.render(status, &self.head);
        self.written = 0;
        self.rejected = true;
        // Written here or on the next flush; hyper flushes and shuts down after this head.
        Some(match self.poll_drain(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        })
    }
}

/// The status of hyper's automatic rejection if `buf` is one: `HTTP/1.1 400|414|431 ...`, a
/// complete head, and no `content-type`.
fn rejection_status(buf: &[u8]) -> Option<u16> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ")?;
    let status = match rest.get(..4)? {
        b"400 " => 400,
        b"414 " => 414,
        b"431 " => 431,
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &buf[..end];
    let has_content_type = head
        .split(|&b| b == b'\n')
        .any(|line| line.len() >= 13 && line[..13].eq_ignore_ascii_case(b"content-type:"));
    (!has_content_type).then_some(status)
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let new = &buf.filled()[before..];
        if !new.is_empty() {
            if this.state.on_read() {
                this.head.clear();
            }
            if this.state.reading_head() && this.head.len() < HEAD_PREFIX {
                let take = new.len().min(HEAD_PREFIX - this.head.len());
                this.head.extend_from_slice(&new[..take]);
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if let Some(done) = this.break_off(buf, cx) {
            return done;
        }
        if let Some(done) = this.substitute(buf, cx) {
            return done;
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        if n > 0 {
            this.state.touch();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        // hyper queues a head as a buffer of its own; a rejection has nothing after it.
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(done) = this
                .break_off(first, cx)
                .or_else(|| this.substitute(first, cx))
        {
            return done;
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        if n > 0 {
            this.state.touch();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if this.broken {
            // A truncated response is out: end the connection here, so hyper does not wait
            // for a next request on it. (A reset sends no FIN.)
            if this.breaking.get() == Some(Disconnect::Truncate) {
                let _ = ready!(Pin::new(&mut this.inner).poll_shutdown(cx));
            }
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.broken {
            // A reset must not send a FIN first; the other breaks are shut already.
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_drain(cx))?;
        if !this.rejected {
            return Pin::new(&mut this.inner).poll_shutdown(cx);
        }
        // Send FIN, then read what the client is still sending until it closes too (or
        // enough was thrown away; the connection's header-read deadline bounds the time).
        let mut drained = match this.lingered {
            Some(n) => n,
            None => {
                ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                0
            }
        };
        let mut scratch = [0u8; 8192];
        while drained < LINGER_BYTES {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => break,
                Poll::Ready(Ok(())) => drained += buf.filled().len(),
                Poll::Ready(Err(_)) => break,
                Poll::Pending => {
                    this.lingered = Some(drained);
                    return Poll::Pending;
                }
            }
        }
        this.lingered = Some(LINGER_BYTES);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::rejection_status;

    #[test]
    fn recognises_hyper_rejections_only() {
        let hyper_head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 21:00:00 GMT\r\n\r\n";
        assert_eq!(rejection_status(hyper_head), Some(431));
        assert_eq!(
            rejection_status(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"),
            Some(400)
        );
        assert_eq!(
            rejection_status(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n"),
            Some(414)
        );
        // The app's own errors carry a body and a content type.
        assert_eq!(
            rejection_status(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\ncontent-length: 10\r\n\r\n"
            ),
            None
        );
        // Other statuses, incomplete heads and bodies are left alone.
        assert_eq!(
            rejection_status(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(rejection_status(b"HTTP/1.1 400 Bad Request\r\n"), None);
        assert_eq!(rejection_status(b"{\"HTTP/1.1 400 \"}"), None);
    }
}
