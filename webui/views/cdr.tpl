% rebase('base.tpl', title=_('Call record'), back_path='/cdrs')
<h1>{{_('Call record')}}</h1>
<table class="kv">
<tr><th>{{_('Call ID')}}</th><td>{{c.call_id}}</td></tr>
<tr><th>{{_('Start')}}</th><td>{{local_time(c.start)}}</td></tr>
<tr><th>{{_('Answered')}}</th><td>{{local_time(c.answer)}}</td></tr>
<tr><th>{{_('End')}}</th><td>{{local_time(c.end)}}</td></tr>
<tr><th>{{_('Direction')}}</th><td>{{_(c.direction) if c.direction else ''}}</td></tr>
<tr><th>{{_('Caller')}}</th><td>{{c.caller}}</td></tr>
<tr><th>{{_('Called')}}</th><td>{{c.called}}</td></tr>
<tr><th>{{_('Answered by')}}</th><td>{{c.callee}}</td></tr>
<tr><th>{{_('Queue')}}</th><td>{{c.queue}}</td></tr>
<tr><th>{{_('Agent')}}</th><td>{{c.agent}}</td></tr>
<tr><th>{{_('Ring (s)')}}</th><td>{{'%.1f' % c.ring_seconds}}</td></tr>
<tr><th>{{_('Talk (s)')}}</th><td>{{'%.1f' % c.talk_seconds}}</td></tr>
<tr><th>{{_('Cause')}}</th><td>{{c.cause}} {{c.cause_text}}</td></tr>
<tr><th>{{_('Released by')}}</th><td>{{c.released_by}}</td></tr>
% for key in ('agents', 'transfers', 'ivr_flow', 'route'):
% if extra.get(key):
<tr><th>{{key}}</th><td>{{extra[key]}}</td></tr>
% end
% end
</table>
% if has_audio and may_hear:
<h2>{{_('Recording')}}</h2>
<div class="player" id="player" data-waveform="{{audio_base}}/waveform.json">
<canvas id="waveform" width="900" height="120" title="{{_('Click to jump there')}}"></canvas>
<audio controls preload="metadata" id="recording" src="{{audio_base}}/recording"></audio>
<p class="muted">{{_('Upper: caller; lower: what the caller heard (agent).')}} <span id="position"></span></p>
</div>
<p><a href="{{audio_base}}/recording?download=1" id="download">{{_('Download')}}</a></p>
<script src="/static/player.js" defer></script>
% elif c.recording and not has_audio:
<p class="muted">{{_('The recording file is missing.')}}</p>
% elif c.recording:
<p class="muted" id="no-permission">{{_('You may not hear this recording.')}}</p>
% end
<h2>{{_('Call notes')}}</h2>
% if notes:
<table id="notes">
<thead><tr><th>{{_('Time')}}</th><th>{{_('Who')}}</th><th>{{_('Outcome')}}</th><th>{{_('Note')}}</th></tr></thead>
<tbody>
% for n in notes:
<tr><td>{{local_time(n.created)}}</td><td>{{n.author}}</td><td>{{_(n.disposition) if n.disposition else ''}}</td><td>{{n.text}}</td></tr>
% end
</tbody>
</table>
% else:
<p class="muted">{{_('No notes.')}}</p>
% end
<p><a href="/cdrs">{{_('Back to the list')}}</a></p>
