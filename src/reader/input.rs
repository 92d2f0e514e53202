//! The decompressed stream, read into a buffer that can keep a partial record while more is
//! read behind it (a `BufReader` can only hand out what it holds, so a record crossing its
//! buffer's end would have to be copied out piece by piece).
use std::io::{self, Read};

/// The usual buffer size; it grows for a record larger than what is left of it.
const INITIAL: usize = 256 << 10;
/// A buffer grown past this by a huge record is released once that record has been consumed.
const KEEP: usize = 4 * INITIAL;

pub(super) struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    /// `buf[pos..end]` is read and not yet consumed.
    pos: usize,
    end: usize,
}

impl<R: Read> Input<R> {
    pub(super) fn new(inner: R) -> Self {
        Input {
            inner,
            buf: Vec::new(),
            pos: 0,
            end: 0,
        }
    }

    /// The unconsumed bytes, reading more only when there are none (`BufRead::fill_buf`).
    pub(super) fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            if self.buf.len() > KEEP || self.buf.is_empty() {
                self.buf = vec![0; INITIAL];
            }
            self.end = self.inner.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// Consumes `n` bytes and returns where they start, for [`Input::get`] until the next read.
    pub(super) fn consume_at(&mut self, n: usize) -> usize {
        let start = self.pos;
        self.consume(n);
        start
    }

    /// Bytes consumed by [`Input::consume_at`]; valid until the next read.
    pub(super) fn get(&self, start: usize, len: usize) -> &[u8] {
        let end = (start + len).min(self.end);
        &self.buf[start.min(end)..end]
    }

    /// The unconsumed bytes, without reading.
    pub(super) fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads more behind the unconsumed bytes (moved to the front; the buffer doubles when
    /// they fill it, up to `limit` bytes or one more than it holds). Ok(0) at the end of the
    /// stream.
    pub(super) fn fill_more(&mut self, limit: usize) -> io::Result<usize> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2)
                .max(INITIAL)
                .min(limit.max(self.end + 1));
            // Exactly: `resize` alone may double the capacity past the limit.
            self.buf.reserve_exact(grown - self.buf.len());
            self.buf.resize(grown, 0);
        }
        let n = self.inner.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out at most `step` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn fill_more_keeps_unconsumed_bytes_and_grows() {
        let data: Vec<u8> = (0..5 * INITIAL).map(|i| (i % 251) as u8).collect();
        let mut input = Input::new(Trickle {
            data: &data,
            step: INITIAL / 3,
        });
        assert_eq!(input.fill_buf().unwrap().len(), INITIAL / 3);
        input.consume(10);
        while input.fill_more(usize::MAX).unwrap() > 0 {}
        assert_eq!(input.buffered(), &data[10..]);
        assert!(input.buf.len() >= data.len() - 10);
        let start = input.consume_at(5);
        assert_eq!(input.get(start, 5), &data[10..15]);
        // Everything consumed: the grown buffer is released at the next read.
        let n = input.buffered().len();
        input.consume(n);
        assert!(input.fill_buf().unwrap().is_empty());
        assert_eq!(input.buf.len(), INITIAL);
    }
}
