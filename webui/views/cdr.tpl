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
<tr><th>{{_('Ring (s)')}}</th><td>{{'%.1f' % c.ring_seconds}}</td></tr>
<tr><th>{{_('Talk (s)')}}</th><td>{{'%.1f' % c.talk_seconds}}</td></tr>
<tr><th>{{_('Cause')}}</th><td>{{c.cause}} {{c.cause_text}}</td></tr>
<tr><th>{{_('Released by')}}</th><td>{{c.released_by}}</td></tr>
</table>
% if has_audio and ctx.can('recordings.listen'):
<h2>{{_('Recording')}}</h2>
<audio controls preload="metadata" id="recording" src="/cdrs/{{c.id}}/recording"></audio>
<p><a href="/cdrs/{{c.id}}/recording?download=1" id="download">{{_('Download')}}</a></p>
% elif c.recording:
<p class="muted">{{_('The recording file is missing.') if not has_audio else ''}}</p>
% end
<p><a href="/cdrs">{{_('Back to the list')}}</a></p>
