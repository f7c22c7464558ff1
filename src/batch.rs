//! A bounded queue of finished spans, drained in batches, in the manner of OpenTelemetry's
//! `BatchSpanProcessor`.
//!
//! The queue holds at most [`BatchConfig::max_queue_spans`] spans and about
//! [`BatchConfig::max_queue_bytes`] bytes; a span that does not fit is dropped and counted under
//! its [`DropReason`]. [`BatchQueue::take_batch`] encodes up to [`BatchConfig::max_batch_spans`]
//! spans into one body of at most [`BatchConfig::max_export_bytes`] (60,000 by default, under the
//! 64 KiB that a `fetch(…, {keepalive: true})` may carry). Spans that do not fit stay queued, in
//! order, for the next batch.

use std::collections::VecDeque;

use crate::otlp::{Encoder, Payload};
use crate::span::SpanData;

/// Limits of the queue and of each export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// Most spans held while waiting for export. Default: 2048.
    pub max_queue_spans: usize,
    /// Most bytes (approximate, by the size of the span's strings) held. Default: 8 MiB.
    pub max_queue_bytes: usize,
    /// Most spans in one export request. Default: 512.
    pub max_batch_spans: usize,
    /// Most bytes in one export request body. Default: 60,000.
    pub max_export_bytes: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_spans: 2048,
            max_queue_bytes: 8 * 1024 * 1024,
            max_batch_spans: 512,
            max_export_bytes: 60_000,
        }
    }
}

/// Why a span was not exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The queue held `max_queue_spans` spans.
    QueueFull,
    /// The queue held `max_queue_bytes` bytes.
    QueueBytes,
    /// The trace was not sampled.
    SampledOut,
    /// The exporter gave up on the batch holding it (reported by the transport).
    ExportFailed,
}

/// Counts of dropped spans, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// See [`DropReason::QueueFull`].
    pub queue_full: u64,
    /// See [`DropReason::QueueBytes`].
    pub queue_bytes: u64,
    /// See [`DropReason::SampledOut`].
    pub sampled_out: u64,
    /// See [`DropReason::ExportFailed`].
    pub export_failed: u64,
}

impl DropCounts {
    /// Counts `n` spans dropped for `reason`.
    pub fn add(&mut self, reason: DropReason, n: u64) {
        let c = match reason {
            DropReason::QueueFull => &mut self.queue_full,
            DropReason::QueueBytes => &mut self.queue_bytes,
            DropReason::SampledOut => &mut self.sampled_out,
            DropReason::ExportFailed => &mut self.export_failed,
        };
        *c += n;
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.queue_full + self.queue_bytes + self.sampled_out + self.export_failed
    }
}

/// The size a span is charged against `max_queue_bytes`: its strings plus a fixed overhead.
pub fn approx_size(span: &SpanData) -> usize {
    let attrs: usize = span
        .attributes
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(8, str::len) + 16)
        .sum();
    let events: usize = span
        .events
        .iter()
        .map(|e| {
            e.name.len()
                + 24
                + e.attributes
                    .iter()
                    .map(|(k, v)| k.len() + v.as_str().map_or(8, str::len))
                    .sum::<usize>()
        })
        .sum();
    128 + span.name.len()
        + span.inputs.as_deref().map_or(0, str::len)
        + span.outputs.as_deref().map_or(0, str::len)
        + span.status.message.len()
        + attrs
        + events
}

/// Whether a body's buffer is reserved from the last batch's bytes per span. Not in the
/// browser's protobuf-only core: its bodies are capped under 64 KiB by default, all reserved at
/// once anyway, and every byte of that core ships.
const SIZED_BODIES: bool = !cfg!(feature = "protobuf-only");

/// The bounded queue.
#[derive(Debug, Default)]
pub struct BatchQueue {
    cfg: BatchConfig,
    /// Boxed: queueing a span moves a pointer (see `Live` in src/tracer.rs).
    spans: VecDeque<(Box<SpanData>, usize)>,
    bytes: usize,
    dropped: DropCounts,
    /// Body bytes per span of the last batch taken (0 before the first): sizes the next body's
    /// buffer, which then holds it without growing.
    body_per_span: usize,
}

impl BatchQueue {
    /// An empty queue with these limits.
    pub fn new(cfg: BatchConfig) -> BatchQueue {
        BatchQueue {
            cfg,
            ..Default::default()
        }
    }

    /// The queued spans, oldest first.
    #[cfg(test)]
    pub(crate) fn spans(&self) -> impl Iterator<Item = &SpanData> {
        self.spans.iter().map(|(s, _)| &**s)
    }

    /// The limits.
    pub fn config(&self) -> &BatchConfig {
        &self.cfg
    }

    /// Queues a finished span, or drops and counts it.
    pub fn push(&mut self, span: impl Into<Box<SpanData>>) -> Result<(), DropReason> {
        let span = span.into();
        let size = approx_size(&span);
        let reason = if self.spans.len() >= self.cfg.max_queue_spans {
            Some(DropReason::QueueFull)
        } else if self.bytes + size > self.cfg.max_queue_bytes {
            Some(DropReason::QueueBytes)
        } else {
            None
        };
        if let Some(r) = reason {
            self.dropped.add(r, 1);
            return Err(r);
        }
        self.bytes += size;
        self.spans.push_back((span, size));
        Ok(())
    }

    /// Spans waiting.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Approximate bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a full batch is waiting (the exporter should not wait for its timer).
    pub fn batch_ready(&self) -> bool {
        self.spans.len() >= self.cfg.max_batch_spans
    }

    /// What was dropped so far.
    pub fn dropped(&self) -> &DropCounts {
        &self.dropped
    }

    /// Counts drops that happened outside the queue (sampling, failed exports).
    pub fn count_dropped(&mut self, reason: DropReason, n: u64) {
        self.dropped.add(reason, n);
    }

    /// Encodes the next batch: the oldest spans, as many as fit the span and byte caps.
    pub fn take_batch(&mut self, encoder: &Encoder) -> Option<Payload> {
        if self.spans.is_empty() {
            return None;
        }
        let mut b = if !SIZED_BODIES || self.body_per_span == 0 {
            encoder.builder(self.cfg.max_export_bytes)
        } else {
            // The last batch's bytes per span, an eighth more, for as many spans as this takes.
            let n = self.spans.len().min(self.cfg.max_batch_spans);
            let per = self.body_per_span + self.body_per_span / 8;
            encoder.builder_sized(
                self.cfg.max_export_bytes,
                n.saturating_mul(per).saturating_add(1024),
            )
        };
        while b.len() < self.cfg.max_batch_spans {
            let Some((span, _)) = self.spans.front() else {
                break;
            };
            if !b.try_add(span) {
                break;
            }
            if let Some((_, size)) = self.spans.pop_front() {
                self.bytes -= size;
            }
        }
        if b.is_empty() {
            // Only a span the encoder cannot write at all gets here; never let it block the queue.
            if let Some((_, size)) = self.spans.pop_front() {
                self.bytes -= size;
                self.dropped.add(DropReason::ExportFailed, 1);
            }
            return None;
        }
        let payload = b.finish();
        if SIZED_BODIES {
            self.body_per_span = payload.body.len().div_ceil(payload.spans.max(1));
        }
        Some(payload)
    }
}
