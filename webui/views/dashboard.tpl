% rebase('base.tpl', title=_('Dashboard'), back_path='/')
<h1>{{_('System status')}}</h1>
% if info is None:
<p class="error" id="switchd-down">{{problem}}</p>
% else:
<table class="kv" id="status">
<tr><th>{{_('Uptime')}}</th><td>{{info['uptime']}}</td></tr>
<tr><th>{{_('Board')}}</th><td>{{info['board']}}</td></tr>
<tr><th>{{_('Extensions')}}</th><td>{{info['extensions']}}</td></tr>
<tr><th>{{_('Registrations')}}</th><td id="registrations">{{info['registrations']}}</td></tr>
<tr><th>{{_('Active calls')}}</th><td id="active-calls">{{info['active_calls']}}</td></tr>
<tr><th>{{_('Completed calls')}}</th><td>{{info['completed_calls']}}</td></tr>
</table>
<h2>{{_('Spans')}}</h2>
% if not info['spans']:
<p>{{_('No spans.')}}</p>
% else:
<table id="spans">
<thead><tr><th>{{_('Name')}}</th><th>{{_('Signalling')}}</th><th>{{_('D-channel')}}</th><th>{{_('Alarm')}}</th><th>{{_('Idle channels')}}</th></tr></thead>
<tbody>
% for span in info['spans']:
<tr><td>{{span.get('name', '')}}</td><td>{{span.get('signalling', '')}}</td><td>{{span.get('dchannel', '')}}</td><td>{{span.get('alarm') or _('none')}}</td><td>{{span.get('idle', '')}}</td></tr>
% end
</tbody>
</table>
% end
% end
